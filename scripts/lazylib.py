#!/usr/bin/env python3
"""Writes src/util/<name>.h and .c: a table of a shared library's functions that is
filled on first use with dlopen (see src/util/dynlib.h for why).

usage: scripts/lazylib.py NAME SONAME_MACRO DEBIAN_PACKAGE "HEADERS" FUNC...
  e.g. scripts/lazylib.py libcurl FERRY_CURL_SONAME libcurl4 "curl/curl.h" curl_easy_init ...
The SONAME macro is defined by the Makefile (SONAMES). Re-run with the full list of
functions to add one; then `make format`.
"""
import sys

name, soname_macro, package, headers = sys.argv[1:5]
funcs = sys.argv[5:]
up = name.upper()
includes = "\n".join(f"#include <{h}>" for h in headers.split())
h = f"""/*
 * {name}.h — {package}'s functions ferry uses, loaded on first call (util/dynlib.h).
 *
 * Include this instead of the library's headers. Every function ferry uses is in
 * the FUNCS list below; a call `f(...)` goes through the table, whose members have
 * the real function's type (__typeof__), so calls are type-checked as usual. ferry
 * does not link the library, so using a function missing from the list fails at
 * link time: add it to the list (scripts/lazylib.py).
 */
#ifndef FERRY_{up}_H
#define FERRY_{up}_H

{includes}

#define {up}_FUNCS(X) \\
""" + " \\\n".join(f"\tX({f})" for f in funcs) + f"""

struct {name}_api {{
#define {up}_MEMBER(f) __typeof__(f) *f;
	{up}_FUNCS({up}_MEMBER)
#undef {up}_MEMBER
}};

/* The loaded table (the library is opened on the first call). */
const struct {name}_api *{name}_api(void);

#ifndef {up}_IMPL
""" + "\n".join(f"#undef {f} /* some headers define their functions as macros too */\n#define {f} ({name}_api()->{f})" for f in funcs) + """
#endif

#endif
"""
c = f"""/* {name}.c — see {name}.h. */
#define {up}_IMPL
#include "util/{name}.h"

#include <pthread.h>

#include "util/dynlib.h"

static struct {name}_api api;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{{
	static const char *const names[] = {{
#define {up}_NAME(f) #f,
		{up}_FUNCS({up}_NAME)
#undef {up}_NAME
	}};
	dynlib_load({soname_macro}, "{package}", names, (void **)&api,
	            sizeof names / sizeof names[0]);
}}

const struct {name}_api *{name}_api(void)
{{
	pthread_once(&once, load);
	return &api;
}}
"""
open(f"src/util/{name}.h", "w").write(h)
open(f"src/util/{name}.c", "w").write(c)
