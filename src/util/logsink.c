/* logsink.c — see logsink.h. */
#include "util/logsink.h"

#include <stdarg.h>
#include <stdio.h>

void logsink_printf(const struct logsink *sink, const char *fmt, ...)
{
	if (!sink || !sink->emit)
		return;
	char line[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	sink->emit(sink->ctx, line);
}
