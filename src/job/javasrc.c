/* Class-name discovery for submitted Java sources.
 *
 * A tiny lexer turns the source into identifiers and punctuation, dropping
 * comments and literals so that text such as "public class X" inside them
 * cannot be mistaken for a declaration.  A state machine over the tokens at
 * brace depth 0 then picks up `package a.b;` and the first
 * `public [modifiers|annotations] class Name`.
 *
 * Known simplification: Unicode escapes (\u0022 written for a quote) are not
 * translated before lexing, as javac does; no sane submission relies on
 * them to delimit literals or comments. */
#include "job/javasrc.h"

#include <stdbool.h>
#include <string.h>

enum tok_kind {
	TOK_EOF,
	TOK_IDENT,
	TOK_NUMBER,
	TOK_PUNCT,
	TOK_LITERAL,
};

struct tok {
	enum tok_kind kind;
	const char *p;
	size_t len;
};

struct lexer {
	const char *s;
	size_t len;
	size_t pos;
};

/* Bytes >= 0x80 are taken as identifier characters so that UTF-8 encoded
 * names (javac accepts any Unicode letter) stay in one token. */
static bool is_ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' ||
	       c >= 0x80;
}

static bool is_ident_part(unsigned char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

static bool at(const struct lexer *lx, size_t off, char c)
{
	return lx->pos + off < lx->len && lx->s[lx->pos + off] == c;
}

static void skip_line_comment(struct lexer *lx)
{
	while (lx->pos < lx->len && lx->s[lx->pos] != '\n')
		lx->pos++;
}

static void skip_block_comment(struct lexer *lx)
{
	lx->pos += 2;
	while (lx->pos < lx->len && !(at(lx, 0, '*') && at(lx, 1, '/')))
		lx->pos++;
	lx->pos = lx->pos < lx->len ? lx->pos + 2 : lx->len;
}

/* A string or char literal.  It also ends at a newline: Java does not allow
 * one inside, and stopping there keeps a stray quote from swallowing the
 * rest of a (broken) file. */
static void skip_quoted(struct lexer *lx, char quote)
{
	lx->pos++;
	while (lx->pos < lx->len) {
		char c = lx->s[lx->pos];
		if (c == '\\') {
			lx->pos += 2;
			continue;
		}
		lx->pos++;
		if (c == quote || c == '\n')
			return;
	}
	lx->pos = lx->len;
}

static void skip_text_block(struct lexer *lx)
{
	lx->pos += 3;
	while (lx->pos < lx->len) {
		if (lx->s[lx->pos] == '\\') {
			lx->pos += 2;
			continue;
		}
		if (at(lx, 0, '"') && at(lx, 1, '"') && at(lx, 2, '"')) {
			lx->pos += 3;
			return;
		}
		lx->pos++;
	}
	lx->pos = lx->len;
}

static void skip_space_and_comments(struct lexer *lx)
{
	for (;;) {
		if (lx->pos >= lx->len)
			break;
		char c = lx->s[lx->pos];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
			lx->pos++;
		} else if (c == '/' && at(lx, 1, '/')) {
			skip_line_comment(lx);
		} else if (c == '/' && at(lx, 1, '*')) {
			skip_block_comment(lx);
		} else {
			break;
		}
	}
}

static struct tok next_token(struct lexer *lx)
{
	skip_space_and_comments(lx);
	struct tok t = { TOK_EOF, lx->s + lx->pos, 0 };
	if (lx->pos >= lx->len)
		return t;
	size_t start = lx->pos;
	unsigned char c = (unsigned char)lx->s[lx->pos];
	if (is_ident_start(c) || (c >= '0' && c <= '9')) {
		/* Numbers share the identifier alphabet closely enough (0x1F,
		 * 1_000L, 2e5); they only need to be one token that is not a
		 * name. */
		t.kind = is_ident_start(c) ? TOK_IDENT : TOK_NUMBER;
		while (lx->pos < lx->len && is_ident_part((unsigned char)lx->s[lx->pos]))
			lx->pos++;
	} else if (c == '"' && at(lx, 1, '"') && at(lx, 2, '"')) {
		t.kind = TOK_LITERAL;
		skip_text_block(lx);
	} else if (c == '"' || c == '\'') {
		t.kind = TOK_LITERAL;
		skip_quoted(lx, (char)c);
	} else {
		t.kind = TOK_PUNCT;
		lx->pos++;
	}
	if (lx->pos > lx->len)
		lx->pos = lx->len;
	t.len = lx->pos - start;
	return t;
}

static bool tok_is(const struct tok *t, const char *word)
{
	size_t n = strlen(word);
	return t->len == n && memcmp(t->p, word, n) == 0;
}

static bool tok_is_punct(const struct tok *t, char c)
{
	return t->kind == TOK_PUNCT && t->p[0] == c;
}

/* Appends to a NUL-terminated buffer; false if it does not fit. */
static bool append(char *out, size_t outlen, size_t *used, const char *p, size_t n)
{
	if (*used + n + 1 > outlen)
		return false;
	memcpy(out + *used, p, n);
	*used += n;
	out[*used] = '\0';
	return true;
}

enum state {
	ST_TOP,	       /* between declarations */
	ST_PKG_NAME,   /* after `package` or after a dot in its name */
	ST_PKG_DOT,    /* after a name part: expect '.' or ';' */
	ST_MODIFIERS,  /* after `public`: modifiers, annotations, until the kind keyword */
	ST_CLASS_NAME, /* after `public ... class` */
};

struct scan {
	enum state st;
	int depth;     /* braces */
	int parens;    /* inside annotation arguments after `public` */
	bool have_pkg; /* only the first package clause counts */
	char pkg[1024];
	size_t pkg_used;
	bool pkg_overflow;
};

/* Returns false if the token does not continue the clause; the caller then
 * treats it as an ordinary top-level token. */
static bool on_package_token(struct scan *sc, const struct tok *t)
{
	if (sc->st == ST_PKG_NAME && t->kind == TOK_IDENT) {
		if (!append(sc->pkg, sizeof(sc->pkg), &sc->pkg_used, t->p, t->len))
			sc->pkg_overflow = true;
		sc->st = ST_PKG_DOT;
	} else if (sc->st == ST_PKG_DOT && tok_is_punct(t, '.')) {
		if (!append(sc->pkg, sizeof(sc->pkg), &sc->pkg_used, ".", 1))
			sc->pkg_overflow = true;
		sc->st = ST_PKG_NAME;
	} else if (sc->st == ST_PKG_DOT && tok_is_punct(t, ';')) {
		sc->have_pkg = true;
		sc->st = ST_TOP;
	} else {
		/* Malformed clause: forget it, javac will complain. */
		sc->pkg_used = 0;
		sc->pkg[0] = '\0';
		sc->pkg_overflow = false;
		sc->st = ST_TOP;
		return false;
	}
	return true;
}

/* Inside `public ...` before the declaration kind.  Returns false when the
 * token shows this is not a class declaration after all. */
static bool on_modifier_token(struct scan *sc, const struct tok *t)
{
	if (tok_is_punct(t, '(')) {
		sc->parens++;
		return true;
	}
	if (tok_is_punct(t, ')')) {
		sc->parens--;
		return sc->parens >= 0;
	}
	if (sc->parens > 0)
		return t->kind != TOK_EOF;
	if (t->kind == TOK_IDENT) {
		if (tok_is(t, "class")) {
			sc->st = ST_CLASS_NAME;
			return true;
		}
		/* interface, enum, record (and @interface) are not classes. */
		return !tok_is(t, "interface") && !tok_is(t, "enum") && !tok_is(t, "record");
	}
	/* '@' and '.' of annotations, '-' of non-sealed. */
	return tok_is_punct(t, '@') || tok_is_punct(t, '.') || tok_is_punct(t, '-');
}

static void on_top_token(struct scan *sc, const struct tok *t)
{
	if (t->kind != TOK_IDENT)
		return;
	if (tok_is(t, "package") && !sc->have_pkg && sc->pkg_used == 0) {
		sc->st = ST_PKG_NAME;
	} else if (tok_is(t, "public")) {
		sc->st = ST_MODIFIERS;
		sc->parens = 0;
	}
}

static int finish(const struct scan *sc, const struct tok *name, char *out, size_t outlen,
		  char *simple, size_t simplelen)
{
	size_t used = 0;
	if (outlen == 0 || simplelen == 0)
		return -1;
	out[0] = '\0';
	simple[0] = '\0';
	if (sc->have_pkg) {
		if (sc->pkg_overflow || !append(out, outlen, &used, sc->pkg, sc->pkg_used) ||
		    !append(out, outlen, &used, ".", 1))
			return -1;
	}
	if (!append(out, outlen, &used, name->p, name->len))
		return -1;
	used = 0;
	if (!append(simple, simplelen, &used, name->p, name->len))
		return -1;
	return 0;
}

int ft_java_class_name(const char *src, size_t len, char *out, size_t outlen, char *simple,
		       size_t simplelen)
{
	struct lexer lx = { src ? src : "", src ? len : 0, 0 };
	struct scan sc = { .st = ST_TOP };

	for (;;) {
		struct tok t = next_token(&lx);
		if (t.kind == TOK_EOF)
			return -1;
		/* Each state either consumes the token or gives up and lets it
		 * be seen as an ordinary top-level token (a '{' must still
		 * count towards the depth). */
		if (sc.st == ST_MODIFIERS) {
			if (on_modifier_token(&sc, &t))
				continue;
			sc.st = ST_TOP;
		} else if (sc.st == ST_CLASS_NAME) {
			if (t.kind == TOK_IDENT)
				return finish(&sc, &t, out, outlen, simple, simplelen);
			sc.st = ST_TOP;
		} else if (sc.st == ST_PKG_NAME || sc.st == ST_PKG_DOT) {
			if (on_package_token(&sc, &t))
				continue;
		}
		if (tok_is_punct(&t, '{')) {
			sc.depth++;
		} else if (tok_is_punct(&t, '}')) {
			if (sc.depth > 0)
				sc.depth--;
		} else if (sc.depth == 0) {
			on_top_token(&sc, &t);
		}
	}
}
