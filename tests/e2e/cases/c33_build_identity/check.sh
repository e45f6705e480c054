# checklist 33: build numbers count up per project; id is <project>:<uuid>; start time in ms; HOME=/root
expect_rc 0
expect_out_re "id=numbered:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12} number=3 start=[0-9]{13} home=/root"
expect_json "r[\"buildNumber\"]" 3
