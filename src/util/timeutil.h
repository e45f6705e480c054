/*
 * timeutil.h — clocks and timestamps.
 *
 * mono_ms() is for durations and deadlines (never jumps); wall_ms() is Unix
 * epoch milliseconds for records users read.
 */
#ifndef FERRY_TIMEUTIL_H
#define FERRY_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

int64_t mono_ms(void);
int64_t mono_us(void);
int64_t wall_ms(void);
int64_t wall_us(void);

/* "YYYY/MM/DD HH:MM:SS.uuuuuu" in UTC (CodeBuild's log stamp); out >= 27 bytes. */
void time_log_stamp(int64_t wall_us, char *out, size_t n);

/* ISO 8601 "YYYY-MM-DDTHH:MM:SS.mmmZ" in UTC; out >= 25 bytes. */
void time_iso8601(int64_t wall_ms, char *out, size_t n);

#endif
