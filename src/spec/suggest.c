/* suggest.c — see suggest.h. */
#include "spec/suggest.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static int same_ci(char a, char b)
{
	return tolower((unsigned char)a) == tolower((unsigned char)b);
}

/* Edit distance over lower-cased words, a swap of neighbours counting as one edit. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t rows[3][SUGGEST_WORD_MAX + 1];
	size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t best = prev[j - 1] + (same_ci(a[i - 1], b[j - 1]) ? 0 : 1);
			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && same_ci(a[i - 1], b[j - 2]) &&
			    same_ci(a[i - 2], b[j - 1]) && prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
		size_t *t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

const char *spec_suggest(const char *word, const char *const *known)
{
	size_t wl = strlen(word);
	if (wl == 0 || wl > SUGGEST_WORD_MAX)
		return NULL;
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	for (size_t i = 0; known[i]; i++) {
		if (strlen(known[i]) > SUGGEST_WORD_MAX)
			continue;
		size_t d = distance(word, known[i]);
		if (d < best_d) {
			best_d = d;
			best = known[i];
		}
	}
	size_t limit = wl <= 4 ? 1 : 2; /* short words are one edit away from anything */
	if (best_d <= limit)
		return best;
	/* A cut-short key ("Branch" for "BranchName"): the one known word it starts. */
	const char *prefixed = NULL;
	for (size_t i = 0; known[i] && wl >= 4; i++) {
		if (strncasecmp(known[i], word, wl) != 0)
			continue;
		if (prefixed)
			return NULL;
		prefixed = known[i];
	}
	return prefixed;
}
