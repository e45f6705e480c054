mkdir -p reports; cat > reports/unit.xml <<X
<?xml version="1.0"?>
<testsuites><testsuite name="math" tests="3" failures="1" skipped="1">
<testcase classname="math" name="adds" time="0.25"/>
<testcase classname="math" name="divides" time="0.5"><failure message="expected 2, got 3">trace</failure></testcase>
<testcase classname="math" name="later" time="0"><skipped/></testcase>
</testsuite></testsuites>
X
