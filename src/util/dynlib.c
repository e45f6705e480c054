/* dynlib.c — see dynlib.h. */
#include "util/dynlib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

void dynlib_load(const char *soname, const char *package, const char *const *names, void **table,
                 size_t n)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "ferry: cannot load %s (install the Debian package %s): %s\n",
		        soname, package, dlerror());
		exit(127);
	}
	for (size_t i = 0; i < n; i++) {
		table[i] = dlsym(h, names[i]);
		if (!table[i]) {
			fprintf(stderr,
			        "ferry: %s has no %s (ferry was built against another "
			        "version of %s)\n",
			        soname, names[i], package);
			exit(127);
		}
	}
}
