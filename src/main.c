/* main.c — ferry's command line: dispatches to the commands in src/cli/. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help")) {
		fputs("usage: ferry build [options]\n", stderr);
		return 2;
	}
	fprintf(stderr, "ferry: unknown command %s\n", argv[1]);
	return 2;
}
