/* src/match compiling: every compiled pattern must accept exactly the
 * strings glibc's fnmatch(pattern, s, 0) accepts. Checked against the
 * host's fnmatch itself, string by string (so each check is exact): all
 * short patterns over the characters that matter, bracket syntax built
 * from tokens (classes, equivalence classes, collating symbols, the
 * ranges glibc reads two ways), every byte through classes and ranges.
 * The queries are tested in test_glob_sets.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match/glob.h"
#include "match/glob_int.h"
#include "util/strbuf.h"

static void show(const char *what, const char *s)
{
	fprintf(stderr, "%s '", what);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		fprintf(stderr, *p < 0x20 || *p > 0x7e ? "\\x%02x" : "%c", *p);
	fprintf(stderr, "'");
}

/* Both constructions against fnmatch for s; counts failures. */
static int check_one(const struct glob *g, const struct glob *gg, const char *pat, const char *s)
{
	int want = fnmatch(pat, s, 0) == 0;
	int got = glob_match(g, s), got_greedy = gg ? glob_match(gg, s) : want;

	if (got == want && got_greedy == want)
		return 0;
	show("pattern", pat);
	show(" string", s);
	fprintf(stderr, ": fnmatch %d, glob_match %d, first-match construction %d\n", want, got,
		got_greedy);
	return 1;
}

/* Every string over alpha up to max bytes. */
static int check_strings(const struct glob *g, const struct glob *gg, const char *pat,
			 const char *alpha, char *s, size_t len, size_t max)
{
	int bad;

	s[len] = '\0';
	bad = check_one(g, gg, pat, s);
	for (const char *c = alpha; len < max && *c && bad < 5; c++) {
		s[len] = *c;
		bad += check_strings(g, gg, pat, alpha, s, len + 1, max);
	}
	return bad;
}

static int check_pattern(const char *pat, const char *alpha, size_t max)
{
	struct glob *g, *gg;
	char s[16];
	int bad;

	assert_int_equal(glob_new(pat, &g), 0);
	assert_int_equal(glob_new_mode(pat, GLOB_MODE_GREEDY, &gg), 0);
	assert_string_equal(glob_pattern(g), pat);
	bad = check_strings(g, gg, pat, alpha, s, 0, max);
	glob_free(g);
	glob_free(gg);
	return bad;
}

/* All patterns of up to 3 bytes over the characters fnmatch treats
 * specially (plus two letters), against all strings of up to 4 bytes over
 * those, '0' (inside ranges such as "[*-?]") and 'c' (outside every range
 * these can write). 4 bytes: one more than any of these patterns can
 * consume without a '*'. Every byte 1..255 goes through ranges and
 * classes in test_every_byte. */
static void test_short_patterns(void **state)
{
	static const char pat_alpha[] = "ab[]-\\*?!";
	static const char str_alpha[] = "abc[]-\\*?!0";
	char p[4];
	size_t n = sizeof(pat_alpha) - 1, total = 0;
	int bad = 0;

	for (size_t len = 0; len <= 3; len++) {
		size_t count = 1;

		for (size_t i = 0; i < len; i++)
			count *= n;
		for (size_t k = 0; k < count && bad < 5; k++, total++) {
			size_t v = k;

			for (size_t i = 0; i < len; i++, v /= n)
				p[i] = pat_alpha[v % n];
			p[len] = '\0';
			bad += check_pattern(p, str_alpha, 4);
		}
	}
	assert_int_equal(total, 1 + 9 + 81 + 729);
	assert_int_equal(bad, 0);
}

/* Random patterns from bracket tokens: classes, equivalence classes,
 * collating symbols, unterminated brackets, and the ranges whose end is
 * "[:" or "[=", which glibc's two bracket scanners read differently (the
 * first-match construction is exercised by those). */
static void test_bracket_tokens(void **state)
{
	static const char *const tok[] = {
		"[",  "]",     "-",     "[:",     ":]",        "[=",      "=]",   "[.", ".]",
		"a",  "x",     "*",     "?",      "\\",        "!",       "^",    ":",  "[:a:]",
		"[=a=]", "[.a.]", "[:alpha:]", "-[:", "-[=", "x-[:a:]", "a-[=a=]", "*[", "]*",
		"[x", "[xa-[:a:]",
	};
	unsigned int seed = 14, greedy = 0;
	int bad = 0;

	for (int it = 0; it < 1500 && bad < 5; it++) {
		char p[128] = "";
		struct glob *g;
		int k = 1 + (int)(rand_r(&seed) % 8);

		size_t o = 0;

		for (int i = 0; i < k; i++)
			o += (size_t)snprintf(p + o, sizeof(p) - o, "%s",
					      tok[rand_r(&seed) % (sizeof(tok) / sizeof(tok[0]))]);
		bad += check_pattern(p, "ax[]:-=.*", 3);
		assert_int_equal(glob_new(p, &g), 0);
		greedy += g->greedy;
		glob_free(g);
	}
	assert_int_equal(bad, 0);
	/* the tokens do produce patterns that need the first-match rule */
	assert_true(greedy > 10);
}

/* The case glob_build.c's first-match construction exists for. */
static void test_first_match_rule(void **state)
{
	static const char pat[] = "*[xa-[:a:]*]";
	static const char *const strs[] = { "ax", "x", "a]", ":]", "xx", "aax", "a]x]", "" };
	struct glob *g;

	assert_int_equal(glob_new(pat, &g), 0);
	assert_true(g->greedy);
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		assert_int_equal(check_one(g, NULL, pat, strs[i]), 0);
	/* "ax": the segment first matches at 'a' (ending at the inner '*'),
	 * and glibc never tries 'x' at the next start */
	assert_int_equal(glob_match(g, "ax"), 0);
	assert_int_equal(glob_match(g, "x"), 1);
	glob_free(g);
}

/* Every byte 1..255 through classes, ranges and negations. */
static void test_every_byte(void **state)
{
	static const char *const pats[] = {
		"[[:alnum:]]", "[[:alpha:]]", "[[:blank:]]", "[[:cntrl:]]", "[[:digit:]]",
		"[[:graph:]]", "[[:lower:]]", "[[:print:]]", "[[:punct:]]", "[[:space:]]",
		"[[:upper:]]", "[[:xdigit:]]", "[![:digit:]]", "[^[:upper:]x]",
		"[[:digit:][:lower:]]", "[[:foo:]]", "[[:alphaz:]]", "[[:ALPHA:]]", "[[:alpha]",
		"[\x01-\xff]", "[a-\xe9]", "[\x80-\x90]", "[!\x80-\xff]", "[\xe9]", "\xe9",
		"[z-a]", "[--0]", "[!--]", "[]-a]", "[!]-a]", "[a-]", "[\\]]", "[\\\\-a]",
		"[a-\\z]", "[[.-.]-0]", "[[.a.]-]", "[[=a=]b]", "[[=ab=]]", "[[.ab.]]",
		"[[..]]", "[]", "[!]", "[^]", "?", "\\?", "\\", "[\\", "[a\\", "[\x7f-\x81]",
	};
	int bad = 0;

	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
		struct glob *g;
		char s[3] = { 0 };

		assert_int_equal(glob_new(pats[i], &g), 0);
		for (unsigned int b = 1; b < 256; b++) {
			s[0] = (char)b;
			bad += check_one(g, NULL, pats[i], s);
			s[1] = ']';
			bad += check_one(g, NULL, pats[i], s);
			s[1] = '\0';
		}
		bad += check_one(g, NULL, pats[i], "");
		glob_free(g);
	}
	assert_int_equal(bad, 0);
}

/* Class names are read while their letters are in a..y, up to 2048 of
 * them in the main scan, 2047 in the scan after a member matched. */
static void test_class_name_limits(void **state)
{
	static const size_t lens[] = { 2046, 2047, 2048, 2049 };
	char *p = malloc(2100);
	int bad = 0;

	assert_non_null(p);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (int skip = 0; skip < 2; skip++) {
			struct glob *g;
			size_t o = 0;

			p[o++] = '[';
			if (skip)
				p[o++] = 'x';
			p[o++] = '[';
			p[o++] = ':';
			memset(p + o, 'a', lens[i]);
			o += lens[i];
			memcpy(p + o, "0]", sizeof("0]"));
			assert_int_equal(glob_new(p, &g), 0);
			bad += check_one(g, NULL, p, "[");
			bad += check_one(g, NULL, p, "x");
			bad += check_one(g, NULL, p, "0");
			glob_free(g);
		}
	}
	free(p);
	assert_int_equal(bad, 0);
}

static void test_empty_patterns(void **state)
{
	static const struct {
		const char *pat;
		int empty;
	} v[] = {
		{ "", 0 },     { "a\\", 1 },   { "*\\", 1 },   { "[a-", 1 }, { "[\\", 1 },
		{ "*[a-", 1 }, { "[[:bad:]]", 1 }, { "[", 0 }, { "\\\\", 0 }, { "*", 0 },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct glob *g;

		assert_int_equal(glob_new(v[i].pat, &g), 0);
		assert_int_equal(glob_is_empty(g), v[i].empty);
		glob_free(g);
	}
	/* the empty pattern matches the empty string only */
	assert_int_equal(check_pattern("", "ab", 3), 0);
}

static void test_prefix(void **state)
{
	static const struct {
		const char *pat, *prefix;
	} v[] = {
		{ "pci:v00008086d000010D3sv*sd*bc*sc*i*", "pci:v00008086d000010D3sv" },
		{ "acpi*:PNP0A08:*", "acpi" },
		{ "mdio:0000000000000111000001??????????", "mdio:0000000000000111000001" },
		{ "a\\*b[c]d[ef]", "a*bcd" },
		{ "abc", "abc" },
		{ "*abc", "" },
		{ "a\\", "" }, /* matches nothing */
		{ "[!a]b", "" },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct glob *g;
		const char *p;
		size_t len;

		assert_int_equal(glob_new(v[i].pat, &g), 0);
		p = glob_prefix(g, &len);
		assert_int_equal(len, strlen(v[i].prefix));
		assert_memory_equal(p, v[i].prefix, len);
		glob_free(g);
	}
}

/* Limits: the longest pattern compiles (even a worst case for bracket
 * scanning), one byte more is -E2BIG. */
static void test_long_patterns(void **state)
{
	char *p = malloc(GLOB_MAX_PATTERN + 2);
	struct glob *g = NULL;

	assert_non_null(p);
	memset(p, '[', GLOB_MAX_PATTERN);
	p[GLOB_MAX_PATTERN] = '\0';
	assert_int_equal(glob_new(p, &g), 0);
	assert_int_equal(check_one(g, NULL, p, "[[["), 0);
	glob_free(g);
	memset(p, '*', GLOB_MAX_PATTERN);
	assert_int_equal(glob_new(p, &g), 0);
	assert_int_equal(glob_match(g, "anything"), 1);
	glob_free(g);
	p[GLOB_MAX_PATTERN] = '*';
	p[GLOB_MAX_PATTERN + 1] = '\0';
	g = (struct glob *)p;
	assert_int_equal(glob_new(p, &g), -E2BIG);
	assert_null(g);
	free(p);
	glob_free(NULL);
}

/* Real alias patterns against strings built around them. */
static void test_real_aliases(void **state)
{
	static const char *const pats[] = {
		"pci:v00008086d000010D3sv*sd*bc*sc*i*",
		"usb:v2109p0715d*dc*dsc*dp*ic08isc06ip50in*",
		"mdio:0000000000000111000001??????????",
		"acpi*:PNP0A08:*",
		"of:N*T*Cfsl,imx8mq-pcie",
		"sdio:c09v*d*",
		"usb:v*p*d*dc*dsc*dp*ic0Eisc01ip00in*",
		"i2c:lm75",
		"platform:[a-z]*_hda",
	};
	static const char *const strs[] = {
		"pci:v00008086d000010D3sv00001028sd000004A1bc02sc00i00",
		"pci:v00008086d000010D3sv*sd*bc*sc*i*",
		"pci:v00008086d000010D4sv00001028sd000004A1bc02sc00i00",
		"usb:v2109p0715d0100dc00dsc00dp00ic08isc06ip50in00",
		"usb:v2109p0715d0100dc00dsc00dp00ic08isc06ip62in00",
		"mdio:00000000000001110000010000000000",
		"mdio:0000000000000111000001000000000",
		"acpi:PNP0A08:",
		"acpiX:PNP0A08:PNP0A03:",
		"of:NpcieT(null)Cfsl,imx8mq-pcie",
		"of:NpcieT(null)Cfsl,imx8mq-pcieC",
		"sdio:c09v0000d0000",
		"sdio:c08v0000d0000",
		"usb:v046Dp0825d0012dcEFdsc02dp01ic0Eisc01ip00in00",
		"i2c:lm75",
		"platform:intel_hda",
		"platform:Intel_hda",
	};
	int bad = 0;

	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
		struct glob *g;

		assert_int_equal(glob_new(pats[i], &g), 0);
		assert_false(g->greedy);
		for (size_t j = 0; j < sizeof(strs) / sizeof(strs[0]); j++)
			bad += check_one(g, NULL, pats[i], strs[j]);
		glob_free(g);
	}
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short_patterns),
		cmocka_unit_test(test_bracket_tokens),
		cmocka_unit_test(test_first_match_rule),
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_class_name_limits),
		cmocka_unit_test(test_empty_patterns),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_long_patterns),
		cmocka_unit_test(test_real_aliases),
	};

	/* glibc reads it once: '^' negates brackets only while it is unset */
	unsetenv("POSIXLY_CORRECT");
	return cmocka_run_group_tests_name("glob", tests, NULL, NULL);
}
