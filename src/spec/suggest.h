/*
 * suggest.h — "did you mean": the known word nearest to a misspelt one, for error
 * messages about unknown keys, phases, providers.
 *
 * Rule: the nearest known word by edit distance over lower-cased words (a swap of
 * neighbours is one edit), if within 1 edit for words of up to 4 characters and 2
 * for longer ones; else the only known word the typed one (4+ characters) is a
 * prefix of; else NULL. Words longer than SUGGEST_WORD_MAX get no suggestion.
 */
#ifndef FERRY_SUGGEST_H
#define FERRY_SUGGEST_H

#define SUGGEST_WORD_MAX 64

/* Returns an element of the NULL-terminated `known`, or NULL. */
const char *spec_suggest(const char *word, const char *const *known);

#endif
