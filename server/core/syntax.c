/* syntax.c - atproto identifier and lexicon string-format validators.
 * Every check walks the bytes it is given (never strlen): inputs may hold spaces or NULs. */
#include "core/syntax.h"

#include <string.h>

static bool is_lower(uint8_t c)
{
    return c >= 'a' && c <= 'z';
}

static bool is_alpha(uint8_t c)
{
    return is_lower(c) || (c >= 'A' && c <= 'Z');
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(uint8_t c)
{
    return is_alpha(c) || is_digit(c);
}

static uint8_t to_lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* Case-insensitive equality of a view with an ASCII literal. */
static bool eq_nocase(struct bytes s, const char *lit)
{
    size_t n = strlen(lit);
    if (s.len != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (to_lower(s.ptr[i]) != (uint8_t)lit[i]) {
            return false;
        }
    }
    return true;
}

static bool starts_with(struct bytes s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len >= n && memcmp(s.ptr, lit, n) == 0;
}

static struct bytes sub(struct bytes s, size_t from, size_t to)
{
    return (struct bytes){s.ptr + from, to - from};
}

/* Index of c in s at or after from, or s.len. */
static size_t find(struct bytes s, size_t from, uint8_t c)
{
    for (size_t i = from; i < s.len; i++) {
        if (s.ptr[i] == c) {
            return i;
        }
    }
    return s.len;
}

/* ---- DID ---- */

static bool did_id_char(uint8_t c)
{
    return is_alnum(c) || c == '.' || c == '_' || c == ':' || c == '%' || c == '-';
}

bool syntax_did_valid(struct bytes s)
{
    if (s.len > SYNTAX_DID_MAX_LEN || !starts_with(s, "did:")) {
        return false;
    }
    size_t i = 4;
    while (i < s.len && is_lower(s.ptr[i])) {
        i++;
    }
    if (i == 4 || i >= s.len || s.ptr[i] != ':') {
        return false;
    }
    i++;
    if (i >= s.len) {
        return false; /* empty method-specific id */
    }
    for (; i < s.len; i++) {
        if (!did_id_char(s.ptr[i])) {
            return false;
        }
    }
    uint8_t last = s.ptr[s.len - 1];
    return last != ':' && last != '%';
}

/* A DNS host name for did:web: dot-separated labels of [A-Za-z0-9-]. */
static bool web_host_valid(struct bytes h)
{
    if (h.len == 0 || h.len > SYNTAX_HANDLE_MAX_LEN) {
        return false;
    }
    size_t start = 0;
    while (start <= h.len) {
        size_t end = find(h, start, '.');
        struct bytes label = sub(h, start, end);
        if (label.len == 0 || label.len > SYNTAX_NSID_SEGMENT_MAX || label.ptr[0] == '-' ||
            label.ptr[label.len - 1] == '-') {
            return false;
        }
        for (size_t i = 0; i < label.len; i++) {
            if (!is_alnum(label.ptr[i]) && label.ptr[i] != '-') {
                return false;
            }
        }
        start = end + 1;
    }
    return true;
}

bool syntax_did_is_atproto(struct bytes s)
{
    if (!syntax_did_valid(s)) {
        return false;
    }
    if (starts_with(s, "did:plc:")) {
        /* spec(did): did:plc is 24 chars of lower-case base32 (a-z, 2-7) */
        if (s.len != 8 + 24) {
            return false;
        }
        for (size_t i = 8; i < s.len; i++) {
            uint8_t c = s.ptr[i];
            if (!is_lower(c) && !(c >= '2' && c <= '7')) {
                return false;
            }
        }
        return true;
    }
    if (!starts_with(s, "did:web:")) {
        return false;
    }
    struct bytes host = sub(s, 8, s.len);
    /* spec(did): did:web is a host name only, no path; a port only on localhost */
    if (find(host, 0, ':') != host.len) {
        return false;
    }
    size_t pct = find(host, 0, '%');
    if (pct == host.len) {
        return web_host_valid(host);
    }
    struct bytes name = sub(host, 0, pct), port = sub(host, pct, host.len);
    if (!bytes_eq(name, BYTES_LIT("localhost")) || port.len < 4 || port.len > 8 ||
        !(port.ptr[1] == '3' && (port.ptr[2] == 'A' || port.ptr[2] == 'a'))) {
        return false;
    }
    for (size_t i = 3; i < port.len; i++) {
        if (!is_digit(port.ptr[i])) {
            return false;
        }
    }
    return true;
}

/* ---- handle ---- */

static bool handle_label_valid(struct bytes l)
{
    if (l.len == 0 || l.len > SYNTAX_NSID_SEGMENT_MAX || l.ptr[0] == '-' ||
        l.ptr[l.len - 1] == '-') {
        return false;
    }
    for (size_t i = 0; i < l.len; i++) {
        if (!is_alnum(l.ptr[i]) && l.ptr[i] != '-') {
            return false;
        }
    }
    return true;
}

bool syntax_handle_valid(struct bytes s)
{
    if (s.len == 0 || s.len > SYNTAX_HANDLE_MAX_LEN) {
        return false;
    }
    size_t start = 0, labels = 0;
    struct bytes label = {0};
    while (start <= s.len) {
        size_t end = find(s, start, '.');
        label = sub(s, start, end);
        if (!handle_label_valid(label)) {
            return false;
        }
        labels++;
        start = end + 1;
    }
    /* spec(handle): the TLD must not start with a digit (rules out IPv4 addresses) */
    return labels >= 2 && is_alpha(label.ptr[0]);
}

bool syntax_handle_is_disallowed_tld(struct bytes handle, bool allow_test)
{
    static const char *const disallowed[] = {"alt",     "arpa",  "example",   "internal",
                                             "invalid", "local", "localhost", "onion"};
    size_t dot = handle.len;
    while (dot > 0 && handle.ptr[dot - 1] != '.') {
        dot--;
    }
    struct bytes tld = sub(handle, dot, handle.len);
    for (size_t i = 0; i < ARRAY_LEN(disallowed); i++) {
        if (eq_nocase(tld, disallowed[i])) {
            return true;
        }
    }
    /* spec(handle): .test is for development only */
    return !allow_test && eq_nocase(tld, "test");
}

enum err syntax_handle_normalize(struct bytes handle, char *out, size_t out_cap)
{
    if (!syntax_handle_valid(handle)) {
        return ERR_INVALID;
    }
    if (out_cap < handle.len + 1) {
        return ERR_TOO_LARGE;
    }
    for (size_t i = 0; i < handle.len; i++) {
        out[i] = (char)to_lower(handle.ptr[i]);
    }
    out[handle.len] = '\0';
    return ERR_OK;
}

/* ---- NSID ---- */

bool syntax_nsid_valid(struct bytes s)
{
    if (s.len == 0 || s.len > SYNTAX_NSID_MAX_LEN) {
        return false;
    }
    size_t start = 0, segments = 0;
    struct bytes seg = {0};
    while (start <= s.len) {
        size_t end = find(s, start, '.');
        seg = sub(s, start, end);
        if (end == s.len) {
            break; /* seg is the name, checked below */
        }
        /* spec(nsid): authority labels; only the first may not start with a digit */
        if (!handle_label_valid(seg) || (segments == 0 && !is_alpha(seg.ptr[0]))) {
            return false;
        }
        segments++;
        start = end + 1;
    }
    /* spec(nsid): the name is [a-zA-Z][a-zA-Z0-9]{0,62}, no hyphen */
    if (segments < 2 || seg.len == 0 || seg.len > SYNTAX_NSID_SEGMENT_MAX ||
        !is_alpha(seg.ptr[0])) {
        return false;
    }
    for (size_t i = 0; i < seg.len; i++) {
        if (!is_alnum(seg.ptr[i])) {
            return false;
        }
    }
    return true;
}

/* ---- record key, TID, MST key ---- */

static bool rkey_char(uint8_t c)
{
    return is_alnum(c) || c == '.' || c == '_' || c == ':' || c == '~' || c == '-';
}

bool syntax_rkey_valid(struct bytes s)
{
    if (s.len == 0 || s.len > SYNTAX_RKEY_MAX_LEN) {
        return false;
    }
    if (bytes_eq(s, BYTES_LIT(".")) || bytes_eq(s, BYTES_LIT(".."))) {
        return false;
    }
    for (size_t i = 0; i < s.len; i++) {
        if (!rkey_char(s.ptr[i])) {
            return false;
        }
    }
    return true;
}

static bool tid_char(uint8_t c)
{
    return (c >= '2' && c <= '7') || is_lower(c);
}

bool syntax_tid_valid(struct bytes s)
{
    if (s.len != SYNTAX_TID_LEN) {
        return false;
    }
    /* spec(tid): first char in [2-7a-j] keeps the top bit of the 64-bit value clear */
    uint8_t c0 = s.ptr[0];
    if (!((c0 >= '2' && c0 <= '7') || (c0 >= 'a' && c0 <= 'j'))) {
        return false;
    }
    for (size_t i = 1; i < s.len; i++) {
        if (!tid_char(s.ptr[i])) {
            return false;
        }
    }
    return true;
}

static bool mst_segment_valid(struct bytes seg)
{
    if (seg.len == 0) {
        return false;
    }
    for (size_t i = 0; i < seg.len; i++) {
        if (!rkey_char(seg.ptr[i])) { /* same set: [a-zA-Z0-9_~\-:.] */
            return false;
        }
    }
    return true;
}

bool syntax_mst_key_valid(struct bytes s)
{
    /* spec(repository): <collection>/<rkey>; the reference accepts ':' as record keys do */
    if (s.len > SYNTAX_MST_KEY_MAX_LEN) {
        return false;
    }
    size_t slash = find(s, 0, '/');
    if (slash == s.len) {
        return false;
    }
    return mst_segment_valid(sub(s, 0, slash)) && mst_segment_valid(sub(s, slash + 1, s.len));
}

/* ---- AT-URI, at-identifier ---- */

bool syntax_atidentifier_valid(struct bytes s)
{
    return syntax_handle_valid(s) || syntax_did_valid(s);
}

bool syntax_aturi_valid(struct bytes s)
{
    if (s.len > SYNTAX_ATURI_MAX_LEN || !starts_with(s, "at://")) {
        return false;
    }
    size_t a0 = 5, a1 = find(s, a0, '/');
    if (!syntax_atidentifier_valid(sub(s, a0, a1))) {
        return false;
    }
    if (a1 == s.len) {
        return true;
    }
    size_t n0 = a1 + 1, n1 = find(s, n0, '/');
    if (!syntax_nsid_valid(sub(s, n0, n1))) {
        return false; /* also rejects a trailing '/' */
    }
    if (n1 == s.len) {
        return true;
    }
    /* rkey runs to the end; a further '/' fails the record-key character set */
    return syntax_rkey_valid(sub(s, n1 + 1, s.len));
}

/* ---- datetime ---- */

/* Reads exactly n digits at *i; false if any is not a digit. */
static bool read_digits(struct bytes s, size_t *i, size_t n, int *out)
{
    if (*i + n > s.len) {
        return false;
    }
    int v = 0;
    for (size_t k = 0; k < n; k++) {
        uint8_t c = s.ptr[*i + k];
        if (!is_digit(c)) {
            return false;
        }
        v = v * 10 + (c - '0');
    }
    *i += n;
    *out = v;
    return true;
}

static bool expect(struct bytes s, size_t *i, uint8_t c)
{
    if (*i >= s.len || s.ptr[*i] != c) {
        return false;
    }
    (*i)++;
    return true;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (any y >= 0). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

#define MS_PER_DAY    86400000LL
#define MS_PER_MINUTE 60000LL

enum err syntax_datetime_parse(struct bytes s, int64_t *unix_ms)
{
    if (s.len > SYNTAX_DATETIME_MAX_LEN) {
        return ERR_INVALID;
    }
    size_t i = 0;
    int year = 0, mon = 0, day = 0, hour = 0, min = 0, sec = 0, frac_ms = 0;
    if (!read_digits(s, &i, 4, &year) || !expect(s, &i, '-') || !read_digits(s, &i, 2, &mon) ||
        !expect(s, &i, '-') || !read_digits(s, &i, 2, &day) || !expect(s, &i, 'T') ||
        !read_digits(s, &i, 2, &hour) || !expect(s, &i, ':') || !read_digits(s, &i, 2, &min) ||
        !expect(s, &i, ':') || !read_digits(s, &i, 2, &sec)) {
        return ERR_INVALID;
    }
    if (i < s.len && s.ptr[i] == '.') {
        i++;
        size_t start = i;
        while (i < s.len && is_digit(s.ptr[i])) {
            if (i - start < 3) {
                frac_ms = frac_ms * 10 + (s.ptr[i] - '0');
            }
            i++;
        }
        if (i == start) {
            return ERR_INVALID; /* "50.Z" */
        }
        for (size_t k = i - start; k < 3; k++) {
            frac_ms *= 10;
        }
    }
    int offset_min = 0;
    if (i < s.len && s.ptr[i] == 'Z') {
        i++;
    } else if (i < s.len && (s.ptr[i] == '+' || s.ptr[i] == '-')) {
        bool neg = s.ptr[i] == '-';
        i++;
        int oh, om;
        if (!read_digits(s, &i, 2, &oh) || !expect(s, &i, ':') || !read_digits(s, &i, 2, &om)) {
            return ERR_INVALID;
        }
        /* spec(lexicon datetime): -00:00 ("unknown offset" in RFC 3339) is not allowed */
        if (oh > 23 || om > 59 || (neg && oh == 0 && om == 0)) {
            return ERR_INVALID;
        }
        offset_min = (neg ? -1 : 1) * (oh * 60 + om);
    } else {
        return ERR_INVALID; /* the timezone is required */
    }
    if (i != s.len) {
        return ERR_INVALID;
    }
    /* Impossible dates: both references reject these in the primary validator. Leap
     * seconds (60) are refused as JavaScript's Date and Go's time do. */
    if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) || hour > 23 || min > 59 ||
        sec > 59) {
        return ERR_INVALID;
    }
    int64_t local_ms = days_from_civil(year, mon, day) * MS_PER_DAY +
                       ((int64_t)hour * 3600 + min * 60 + sec) * 1000 + frac_ms;
    int64_t utc_ms = local_ms - offset_min * MS_PER_MINUTE;
    /* An offset may push the instant outside years 0000-9999 ("0000-01-01T00:00:00+01:00"
     * is year -1): the references reject it. */
    if (utc_ms < days_from_civil(0, 1, 1) * MS_PER_DAY ||
        utc_ms >= days_from_civil(10000, 1, 1) * MS_PER_DAY) {
        return ERR_INVALID;
    }
    *unix_ms = utc_ms;
    return ERR_OK;
}

bool syntax_datetime_valid(struct bytes s)
{
    int64_t ms;
    return syntax_datetime_parse(s, &ms) == ERR_OK;
}

/* ---- language (BCP 47, RFC 5646) ---- */

#define LANG_MAX_SUBTAGS 64 /* far beyond any real tag; longer ones are refused */

/* RFC 5646 §2.2.8: tags kept whole from RFC 3066, matched case-insensitively. */
static const char *const lang_grandfathered[] = {
    "en-gb-oed", "i-ami",     "i-bnn",     "i-default",  "i-enochian",  "i-hak",  "i-klingon",
    "i-lux",     "i-mingo",   "i-navajo",  "i-pwn",      "i-tao",       "i-tay",  "i-tsu",
    "sgn-be-fr", "sgn-be-nl", "sgn-ch-de", "art-lojban", "cel-gaulish", "no-bok", "no-nyn",
    "zh-guoyu",  "zh-hakka",  "zh-min",    "zh-min-nan", "zh-xiang",
};

struct lang_subtags {
    struct bytes tag[LANG_MAX_SUBTAGS];
    size_t n;
};

static bool all_of(struct bytes t, bool (*pred)(uint8_t))
{
    for (size_t i = 0; i < t.len; i++) {
        if (!pred(t.ptr[i])) {
            return false;
        }
    }
    return true;
}

/* Splits on '-' into 1-8 character alphanumeric subtags; false on anything else. */
static bool lang_split(struct bytes s, struct lang_subtags *out)
{
    out->n = 0;
    size_t start = 0;
    while (start <= s.len) {
        size_t end = find(s, start, '-');
        struct bytes t = sub(s, start, end);
        if (t.len == 0 || t.len > 8 || !all_of(t, is_alnum) || out->n == LANG_MAX_SUBTAGS) {
            return false;
        }
        out->tag[out->n++] = t;
        start = end + 1;
    }
    return true;
}

static bool lang_is_variant(struct bytes t)
{
    /* variant = 5*8alphanum / (DIGIT 3alphanum) */
    return t.len >= 5 || (t.len == 4 && is_digit(t.ptr[0]));
}

/* How a tag parsed, for the strict checks. */
struct lang_parse {
    bool langtag;              /* langtag production (not private use or grandfathered) */
    struct bytes primary;      /* langtag: the primary language subtag */
    size_t variant0, variant1; /* langtag: subtag index range of variants */
    size_t singleton[LANG_MAX_SUBTAGS];
    size_t nsingletons; /* langtag: indexes of extension singletons */
};

/* RFC 5646 §2.1 ABNF over subtags. Language-Tag = langtag / privateuse / grandfathered. */
static bool lang_parse(struct bytes s, struct lang_parse *p)
{
    memset(p, 0, sizeof(*p));
    for (size_t g = 0; g < ARRAY_LEN(lang_grandfathered); g++) {
        if (eq_nocase(s, lang_grandfathered[g])) {
            return true;
        }
    }
    struct lang_subtags st;
    if (!lang_split(s, &st)) {
        return false;
    }
    size_t i = 0;
    if (eq_nocase(st.tag[0], "x")) {
        return st.n >= 2; /* privateuse = "x" 1*("-" (1*8alphanum)) */
    }
    /* language = 2*3ALPHA ["-" extlang] / 4ALPHA / 5*8ALPHA */
    struct bytes lang = st.tag[i++];
    if (lang.len < 2 || !all_of(lang, is_alpha)) {
        return false;
    }
    p->langtag = true;
    p->primary = lang;
    if (lang.len <= 3) {
        /* extlang = 3ALPHA *2("-" 3ALPHA) */
        for (int k = 0; k < 3 && i < st.n && st.tag[i].len == 3 && all_of(st.tag[i], is_alpha);
             k++) {
            i++;
        }
    }
    if (i < st.n && st.tag[i].len == 4 && all_of(st.tag[i], is_alpha)) {
        i++; /* script = 4ALPHA */
    }
    if (i < st.n && ((st.tag[i].len == 2 && all_of(st.tag[i], is_alpha)) ||
                     (st.tag[i].len == 3 && all_of(st.tag[i], is_digit)))) {
        i++; /* region = 2ALPHA / 3DIGIT */
    }
    p->variant0 = i;
    while (i < st.n && lang_is_variant(st.tag[i])) {
        i++;
    }
    p->variant1 = i;
    /* extension = singleton 1*("-" (2*8alphanum)); singleton is any alphanum but x */
    while (i < st.n && st.tag[i].len == 1 && !eq_nocase(st.tag[i], "x")) {
        p->singleton[p->nsingletons++] = i++;
        size_t body = i;
        while (i < st.n && st.tag[i].len >= 2) {
            i++;
        }
        if (i == body) {
            return false;
        }
    }
    if (i < st.n && eq_nocase(st.tag[i], "x")) {
        return st.n - i >= 2; /* private use runs to the end: every subtag is 1-8 alnum */
    }
    return i == st.n;
}

bool syntax_language_wellformed(struct bytes s)
{
    struct lang_parse p;
    return lang_parse(s, &p);
}

static bool subtag_eq_nocase(struct bytes a, struct bytes b)
{
    if (a.len != b.len) {
        return false;
    }
    for (size_t i = 0; i < a.len; i++) {
        if (to_lower(a.ptr[i]) != to_lower(b.ptr[i])) {
            return false;
        }
    }
    return true;
}

bool syntax_language_valid(struct bytes s)
{
    struct lang_parse p;
    if (!lang_parse(s, &p)) {
        return false;
    }
    if (!p.langtag) {
        return true; /* grandfathered or private use */
    }
    /* The reference's strict parser wants the primary subtag as a lower-case 2-3 letter
     * code; "JA" and the reserved 4-letter "jaja" are well-formed but refused here. */
    if (p.primary.len > 3 || !all_of(p.primary, is_lower)) {
        return false;
    }
    struct lang_subtags st;
    if (!lang_split(s, &st)) {
        return false;
    }
    /* RFC 5646 §2.2.5 / §2.2.6: no variant and no extension singleton may repeat */
    for (size_t a = p.variant0; a < p.variant1; a++) {
        for (size_t b = a + 1; b < p.variant1; b++) {
            if (subtag_eq_nocase(st.tag[a], st.tag[b])) {
                return false;
            }
        }
    }
    for (size_t a = 0; a < p.nsingletons; a++) {
        for (size_t b = a + 1; b < p.nsingletons; b++) {
            if (subtag_eq_nocase(st.tag[p.singleton[a]], st.tag[p.singleton[b]])) {
                return false;
            }
        }
    }
    return true;
}

/* ---- cid, uri ---- */

bool syntax_cid_valid(struct bytes s)
{
    if (s.len < SYNTAX_CID_MIN_LEN || s.len > SYNTAX_CID_MAX_LEN) {
        return false;
    }
    if (starts_with(s, "Qmb")) {
        return false; /* CIDv0 is not allowed in atproto */
    }
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = s.ptr[i];
        if (!is_alnum(c) && c != '+' && c != '=') {
            return false;
        }
    }
    return true;
}

#define URI_SCHEME_MAX_LEN 81 /* the Go reference's [a-z][a-z.-]{0,80} */

bool syntax_uri_valid(struct bytes s)
{
    if (s.len > SYNTAX_URI_MAX_LEN || s.len == 0 || !is_lower(s.ptr[0])) {
        return false;
    }
    size_t i = 1;
    while (i < s.len && (is_lower(s.ptr[i]) || s.ptr[i] == '.' || s.ptr[i] == '-')) {
        i++;
    }
    if (i > URI_SCHEME_MAX_LEN || i >= s.len || s.ptr[i] != ':') {
        return false;
    }
    i++;
    if (i == s.len) {
        return false; /* "http:" alone */
    }
    for (; i < s.len; i++) {
        if (s.ptr[i] < '!' || s.ptr[i] > '~') {
            return false;
        }
    }
    return true;
}
