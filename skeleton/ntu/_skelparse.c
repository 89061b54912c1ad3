/*
 * Fast, strict reader for NTU RGB+D / Kinect v2 `.skeleton` text files.
 *
 * Layout (see DESIGN.md):
 *   frame count
 *   per frame: body count
 *     per body: 10 fields (body id first, an integer of up to 19 digits), joint count (25),
 *               then one line of 12 numbers per joint.
 * Lines end in LF, CRLF or a lone CR (Python's universal newlines, as the public tools read them).
 * Anything else (token counts, truncation, non-numeric or non-finite values, trailing content)
 * raises ValueError((line, reason)).
 *
 * Every token's shape is checked (count, numeric syntax, finiteness), but only the joint fields
 * named in `columns` are converted. Numbers use Clinger's exact fast path (mantissa < 2^53,
 * |exponent| <= 22: one correctly rounded IEEE operation) and fall back to CPython's correctly
 * rounded PyOS_string_to_double, so every value equals Python's float(token) bit for bit.
 *
 * Joint lines go through up to three readers, each accepting only well-formed lines and
 * leaving anything else to the next: the whole line at once (x86-64: 128 bytes classified with
 * AVX2 where the CPU has it, else SSE2; every token checked together with bit operations), then
 * a word at a time (8 bytes per load: digit runs found and converted with a few
 * multiplications), then byte by byte (the careful path, which alone decides what an error
 * says). The GIL is released while parsing.
 *
 * parse(data: bytes, columns: int = 0xfff, path: int = 0) -> (n_frames,
 *     bodies_per_frame: bytes[int32], body_ids: bytes[int64],
 *     joints: bytes[float64 n x 25 x popcount(columns)])
 * columns: bit k set = keep joint field k (0-based: x y z depthX depthY colorX colorY ...).
 * path: 0 all readers, 1 word at a time and careful, 2 careful only, 3 as 0 with SSE2 instead
 * of AVX2 (for tests: the same results on every path).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define NTU_JOINTS 25
#define JOINT_FIELDS 12
#define BODY_FIELDS 10
#define ALL_COLUMNS ((1u << JOINT_FIELDS) - 1)
#define MAX_EXACT_DIGITS 19 /* 10^19 < 2^64: a 19-digit mantissa is exact in a uint64 */

typedef struct {
    const char *p;   /* current position */
    const char *end; /* end of buffer */
    long line;       /* 1-based number of the line that starts at p */
    char msg[256];
    long err_line;
    PyThreadState *ts; /* saved thread state while the GIL is released */
    int path;          /* PATH_*: which joint-line readers may be used (tests compare them) */
} Reader;

enum { PATH_BEST = 0, PATH_WORDS = 1, PATH_CAREFUL = 2, PATH_SSE2 = 3 };

typedef struct {
    char *data;
    size_t len, cap;
} Buf;

static int buf_reserve(Buf *b, size_t n) {
    if (b->len + n <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n) cap *= 2;
    char *d = PyMem_RawRealloc(b->data, cap); /* no GIL needed */
    if (!d) return -1;
    b->data = d;
    b->cap = cap;
    return 0;
}

static int buf_push(Buf *b, const void *src, size_t n) {
    if (buf_reserve(b, n) < 0) return -1;
    memcpy(b->data + b->len, src, n);
    b->len += n;
    return 0;
}

static const double POW10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
static const uint64_t POW10_U64[9] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
                                      100000000};
static const uint64_t POW10_U64_16[17] = {1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL,
                                          1000000ULL, 10000000ULL, 100000000ULL, 1000000000ULL,
                                          10000000000ULL, 100000000000ULL, 1000000000000ULL,
                                          10000000000000ULL, 100000000000000ULL,
                                          1000000000000000ULL, 10000000000000000ULL};

/* byte classes */
enum { C_DIGIT = 1, C_DOT = 2, C_SIGN = 4, C_EXP = 8, C_BLANK = 16, C_EOL = 32 };
static uint8_t CLS[256];

static void init_classes(void) {
    for (int c = '0'; c <= '9'; c++) CLS[c] = C_DIGIT;
    CLS['.'] = C_DOT;
    CLS['+'] = CLS['-'] = C_SIGN;
    CLS['e'] = CLS['E'] = C_EXP;
    CLS[' '] = CLS['\t'] = CLS['\v'] = CLS['\f'] = C_BLANK; /* bytes.split()'s whitespace */
    CLS['\n'] = CLS['\r'] = C_EOL;
}

#define CL(c) (CLS[(unsigned char)(c)])

static inline int is_blank(char c) { return CL(c) & C_BLANK; }
static inline int is_eol(char c) { return CL(c) & C_EOL; }

/* p at a line end (or the buffer end): the start of the next line */
static inline const char *skip_eol(const char *p, const char *end) {
    if (p >= end) return end;
    if (*p == '\r') return (p + 1 < end && p[1] == '\n') ? p + 2 : p + 1;
    return p + 1;
}

/* A bad token as messages quote it (the Python reader's _show): up to and with its first byte
 * that cannot be part of a number (unless `whole`: a valid float spelling such as nan, inf or
 * an overflowing number), at most QUOTE_MAX bytes, '\\' and '\'' escaped and bytes that are
 * not printable ASCII as \xNN, "..." where cut. So a file that is no skeleton file at all (a
 * link to /proc/self/environ) puts one byte of it into a rejects report, not its text. */
#define QUOTE_MAX 20

static void show_token(char *out, const char *tok, size_t n, int whole) {
    char *o = out;
    size_t i = 0, m = n < QUOTE_MAX ? n : QUOTE_MAX;
    int stop = 0;
    for (; i < m && !stop; i++) {
        unsigned char c = (unsigned char)tok[i];
        if (c == '\\' || c == '\'') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c >= 32 && c < 127) {
            *o++ = (char)c;
        } else {
            o += sprintf(o, "\\x%02x", c);
        }
        stop = !whole && !(CL(c) & (C_DIGIT | C_DOT | C_SIGN | C_EXP));
    }
    if (i < n) o += sprintf(o, "...");
    *o = 0;
}

static int fail(Reader *r, long line, const char *fmt, const char *tok, size_t toklen, int whole) {
    char shown[4 * QUOTE_MAX + 4];
    show_token(shown, tok, toklen, whole);
    snprintf(r->msg, sizeof(r->msg), fmt, shown);
    r->err_line = line;
    return -1;
}

/* Split the next line into tokens. Returns the token count (all counted), sets starts/lens for
 * the first `max`. Returns -1 at end of input. */
static int next_line(Reader *r, const char **starts, size_t *lens, int max, long *lineno) {
    if (r->p >= r->end) return -1;
    const char *p = r->p, *end = r->end;
    int n = 0;
    while (1) {
        while (p < end && is_blank(*p)) p++;
        if (p >= end || is_eol(*p)) break;
        const char *s = p;
        while (p < end && !is_blank(*p) && !is_eol(*p)) p++;
        if (n < max) {
            starts[n] = s;
            lens[n] = (size_t)(p - s);
        }
        n++;
    }
    *lineno = r->line;
    r->p = skip_eol(p, end);
    r->line++;
    return n;
}

static int ieq(const char *s, size_t n, const char *word) {
    if (strlen(word) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if ((s[i] | 32) != word[i]) return 0;
    return 1;
}

/* Parse one token exactly like Python's float(); 0 ok, -1 not a number, -2 nan/inf/overflow.
 * Accepts what float() accepts, without underscores: [+-](digits[.digits]|.digits)[e[+-]digits]
 * and, as non-finite, [+-](inf|infinity|nan) in any case. Needs the GIL only for the rare slow
 * path (see with_gil). */
static int parse_double(Reader *r, const char *s, size_t n, double *out) {
    const char *p = s, *e = s + n;
    int neg = 0;
    if (p < e && (*p == '-' || *p == '+')) neg = (*p++ == '-');
    uint64_t m = 0;
    int sig = 0, exp10 = 0, seen_dot = 0, any = 0, dropped = 0;
    for (; p < e; p++) {
        char c = *p;
        if (c >= '0' && c <= '9') {
            any = 1;
            if (m == 0 && c == '0') {
                if (seen_dot) exp10--;
                continue; /* leading zeros are not significant */
            }
            if (sig < MAX_EXACT_DIGITS) {
                m = m * 10 + (uint64_t)(c - '0');
                sig++;
                if (seen_dot) exp10--;
            } else {
                dropped = 1;
                if (!seen_dot) exp10++;
            }
        } else if (c == '.' && !seen_dot) {
            seen_dot = 1;
        } else {
            break;
        }
    }
    if (!any) {
        if (!seen_dot && (ieq(p, (size_t)(e - p), "inf") || ieq(p, (size_t)(e - p), "infinity") ||
                          ieq(p, (size_t)(e - p), "nan")))
            return -2;
        return -1;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0, ev = 0, edig = 0;
        if (p < e && (*p == '-' || *p == '+')) eneg = (*p++ == '-');
        for (; p < e && *p >= '0' && *p <= '9'; p++) {
            if (ev < 100000) ev = ev * 10 + (*p - '0');
            edig++;
        }
        if (!edig) return -1;
        exp10 += eneg ? -ev : ev;
    }
    if (p != e) return -1;
    if (!dropped && m < (1ULL << 53) && exp10 >= -22 && exp10 <= 22) {
        double v = (double)m;
        v = exp10 < 0 ? v / POW10[-exp10] : v * POW10[exp10];
        *out = neg ? -v : v;
        return 0;
    }
    /* Slow, exact path for long mantissas and large exponents: CPython's own conversion. */
    char small[128], *tmp = small;
    int rc = 0;
    if (r->ts) PyEval_RestoreThread(r->ts);
    if (n >= sizeof(small)) tmp = PyMem_Malloc(n + 1);
    if (!tmp) {
        PyErr_Clear();
        rc = -1;
    } else {
        memcpy(tmp, s, n);
        tmp[n] = 0;
        double v = PyOS_string_to_double(tmp, NULL, NULL);
        if (v == -1.0 && PyErr_Occurred()) {
            PyErr_Clear();
            rc = -1;
        } else if (!(v - v == 0.0)) {
            rc = -2; /* overflow to inf */
        } else {
            *out = v;
        }
        if (tmp != small) PyMem_Free(tmp);
    }
    if (r->ts) r->ts = PyEval_SaveThread();
    return rc;
}

/* ---- word-at-a-time joint lines ---------------------------------------------------------- */

static inline uint64_t load8(const char *p) {
    uint64_t x;
    memcpy(&x, p, 8);
    return x; /* little-endian: p[0] in the low byte */
}

/* 0x80 in every byte of x that is not an ASCII digit (exact up to and including the first such
 * byte; later bytes may be misjudged, which does not matter for a run length) */
static inline uint64_t nondigits(uint64_t x) {
    const uint64_t hi = 0xF0F0F0F0F0F0F0F0ULL, d = 0x3030303030303030ULL;
    uint64_t a = ((x & hi) ^ d) | (((x + 0x0606060606060606ULL) & hi) ^ d);
    return (((a & 0x7F7F7F7F7F7F7F7FULL) + 0x7F7F7F7F7F7F7F7FULL) | a) & 0x8080808080808080ULL;
}

/* value of the first n (1..8) digit bytes of x */
static inline uint64_t digits_value(uint64_t x, int n) {
    x -= 0x3030303030303030ULL;
    x <<= 8 * (8 - n); /* drop the bytes after the run; zero bytes in front are leading zeros */
    x = x * 10 + (x >> 8);
    x = (((x & 0x000000FF000000FFULL) * 0x000F424000000064ULL) +
         (((x >> 16) & 0x000000FF000000FFULL) * 0x0000271000000001ULL)) >>
        32;
    return x;
}

static inline int run_length(uint64_t x) {
    uint64_t nd = nondigits(x);
    return nd ? __builtin_ctzll(nd) >> 3 : 8;
}

/* A digit run at q: its end, or NULL when a load would pass `lim` (give up). With `m`, the
 * value is accumulated while the total digit count *cnt stays <= MAX_EXACT_DIGITS. */
static inline const char *digit_run(const char *q, const char *lim, uint64_t *m, int *cnt) {
    for (;;) {
        if (q > lim) return NULL;
        uint64_t x = load8(q);
        int n = run_length(x);
        if (m && n) {
            if (*cnt + n <= MAX_EXACT_DIGITS) *m = *m * POW10_U64[n] + digits_value(x, n);
        }
        *cnt += n;
        q += n;
        if (n < 8) return q;
    }
}

/* Parse a well-formed joint line at r->p: 12 numbers, the `keep` ones stored to out, then the
 * line end. 1 on success (r->p and r->line advanced); 0 to leave the line to the careful path.
 * Never reads past r->end. */
__attribute__((unused)) static int joint_line_fast(Reader *r, unsigned keep, double *out) {
    const char *q = r->p, *end = r->end;
    if (end - q < 16) return 0;
    const char *lim = end - 8; /* the last position an 8-byte load may start at */
    for (int t = 0; t < JOINT_FIELDS; t++) {
        while (is_blank(*q))
            if (++q > lim) return 0;
        const char *s = q;
        int neg = *q == '-';
        q += (CL(*q) & C_SIGN) != 0;
        uint64_t m = 0;
        int cnt = 0, want = (keep >> t) & 1;
        q = digit_run(q, lim, want ? &m : NULL, &cnt);
        if (!q) return 0;
        int ints = cnt;
        if (*q == '.') {
            q = digit_run(q + 1, lim, want ? &m : NULL, &cnt);
            if (!q) return 0;
        }
        if (!cnt) return 0;
        int frac = cnt - ints, ev = 0;
        if (CL(*q) & C_EXP) {
            if (++q > lim) return 0; /* room for sign, 5 digits and the next byte */
            int eneg = *q == '-';
            q += (CL(*q) & C_SIGN) != 0;
            int ed = 0;
            for (; ed < 5 && (CL(*q) & C_DIGIT); ed++, q++) ev = ev * 10 + (*q - '0');
            if (!ed || (CL(*q) & C_DIGIT)) return 0;
            if (eneg) ev = -ev;
        }
        if (!(CL(*q) & (C_BLANK | C_EOL))) return 0;
        if (want) {
            int e10 = ev - frac;
            double v;
            if (cnt <= MAX_EXACT_DIGITS && m < (1ULL << 53) && e10 >= -22 && e10 <= 22) {
                v = (double)m;
                v = e10 < 0 ? v / POW10[-e10] : v * POW10[e10];
                *out++ = neg ? -v : v;
            } else {
                if (parse_double(r, s, (size_t)(q - s), &v) < 0) return 0;
                *out++ = v;
            }
        } else if (ints + ev > 300) { /* could be past DBL_MAX: let the exact conversion say */
            double v;
            if (parse_double(r, s, (size_t)(q - s), &v) < 0) return 0;
        }
    }
    while (q < end && is_blank(*q)) q++;
    if (q < end && !is_eol(*q)) return 0; /* more tokens: the careful path counts them */
    r->p = skip_eol(q, end);
    r->line++;
    return 1;
}

#if defined(__x86_64__) && defined(__SIZEOF_INT128__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_WIDE 1
typedef unsigned __int128 u128;

#define WIDE 128 /* bytes classified per line */
#define ALWAYS_INLINE static inline __attribute__((always_inline))

ALWAYS_INLINE int ctz128(u128 x) {
    uint64_t lo = (uint64_t)x;
    return lo ? __builtin_ctzll(lo) : 64 + __builtin_ctzll((uint64_t)(x >> 64));
}

/* value of n (0..16) digits at p; reads 16 bytes from p */
ALWAYS_INLINE uint64_t digits16(const char *p, int n) {
    if (n <= 8) return n ? digits_value(load8(p), n) : 0;
    return digits_value(load8(p), 8) * POW10_U64_16[n - 8] + digits_value(load8(p + 8), n - 8);
}

/* One joint line at p, from its bytes' classes (one bit per byte of the 128 from p: digits,
 * dots, signs, spaces): every token checked together with bit operations and carries, then the
 * `keep` ones converted. Only lines of 12 tokens of [+-]digits[.digits] (or [+-].digits,
 * [+-]digits.) separated by spaces, under 128 bytes, pass; an exponent, a tab or any other byte
 * ends the run of number and space bytes before the line end, so such lines are left to the
 * next path (0). */
ALWAYS_INLINE int wide_line(Reader *r, unsigned keep, double *out, const char *p, u128 D, u128 P,
                            u128 S, u128 SP) {
    u128 N = D | P | S; /* bytes of numbers */
    u128 other = ~(N | SP);
    if (!other) return 0;
    int n = ctz128(other); /* the first byte that is no number or space: the line end? */
    if (!n || (p[n] != '\n' && p[n] != '\r')) return 0;
    u128 in = ((u128)1 << n) - 1;
    N &= in;
    D &= in;
    P &= in;
    S &= in;
    u128 starts = N & ~(N << 1);
    int count = __builtin_popcountll((uint64_t)starts) + __builtin_popcountll((uint64_t)(starts >> 64));
    if (count != JOINT_FIELDS) return 0;
    if (S & ~starts) return 0; /* a sign inside a token */
    /* from each dot, a carry runs through the token's other bytes and stops on the byte after
     * them: a dot there is a second dot in the same token */
    u128 M = N & ~P;
    if ((M + (P << 1)) & ~M & P) return 0;
    /* from each token start, a carry runs through its leading signs and dots: a mantissa has a
     * digit when it stops on one */
    u128 H = S | P;
    if ((H + starts) & ~H & ~D) return 0;
    /* convert the kept tokens: start, dot and end positions come from the masks */
    u128 ends = N & ~(N >> 1); /* the last byte of every token */
    int top = 31 - __builtin_clz(keep);
    for (int t = 0; t <= top; t++) {
        int s = ctz128(starts), last = ctz128(ends);
        starts &= starts - 1;
        ends &= ends - 1;
        int d = P ? ctz128(P) : WIDE;
        if (d > last)
            d = -1; /* no dot in this token */
        else
            P &= P - 1;
        if (!((keep >> t) & 1)) continue;
        const char *tok = p + s;
        int sl = (CL(*tok) & C_SIGN) != 0;
        int ints = (d < 0 ? last + 1 : d) - s - sl, frac = d < 0 ? 0 : last - d;
        double v;
        if (ints <= 16 && frac <= 16 && ints + frac <= MAX_EXACT_DIGITS) {
            uint64_t m = digits16(tok + sl, ints) * POW10_U64_16[frac] + digits16(p + d + 1, frac);
            if (m < (1ULL << 53) && frac <= 22) {
                v = (double)m / POW10[frac];
                *out++ = *tok == '-' ? -v : v;
                continue;
            }
        }
        if (parse_double(r, tok, (size_t)(last + 1 - s), &v) < 0) return 0;
        *out++ = v;
    }
    r->p = skip_eol(p + n, r->end);
    r->line++;
    return 1;
}

/* The 128 bytes from p are classified 16 (SSE2, every x86-64) or 32 (AVX2) at a time. */
static int joint_line_sse2(Reader *r, unsigned keep, double *out) {
    const char *p = r->p;
    if (r->end - p < WIDE + 16) return 0; /* + 16: digits16 at the line's last byte */
    const __m128i zero = _mm_set1_epi8('0'), nine = _mm_set1_epi8(9), dot = _mm_set1_epi8('.'),
                  minus = _mm_set1_epi8('-'), plus = _mm_set1_epi8('+'), sp = _mm_set1_epi8(' ');
    uint64_t dg[2] = {0, 0}, dt[2] = {0, 0}, sg[2] = {0, 0}, bl[2] = {0, 0};
#pragma GCC unroll 8
    for (int j = 0; j < WIDE / 16; j++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(p + 16 * j));
        __m128i x = _mm_sub_epi8(v, zero);
        int sh = 16 * (j & 3), h = j >> 2;
        dg[h] |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(x, nine), x))
                 << sh;
        dt[h] |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, dot)) << sh;
        sg[h] |= (uint64_t)(uint16_t)_mm_movemask_epi8(
                     _mm_or_si128(_mm_cmpeq_epi8(v, minus), _mm_cmpeq_epi8(v, plus)))
                 << sh;
        bl[h] |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, sp)) << sh;
    }
#define JOIN(a) (((u128)(a)[1] << 64) | (a)[0])
    return wide_line(r, keep, out, p, JOIN(dg), JOIN(dt), JOIN(sg), JOIN(bl));
}

__attribute__((target("avx2,bmi,bmi2,popcnt"))) static int joint_line_avx2(Reader *r,
                                                                          unsigned keep,
                                                                          double *out) {
    const char *p = r->p;
    if (r->end - p < WIDE + 16) return 0;
    const __m256i zero = _mm256_set1_epi8('0'), nine = _mm256_set1_epi8(9),
                  dot = _mm256_set1_epi8('.'), minus = _mm256_set1_epi8('-'),
                  plus = _mm256_set1_epi8('+'), sp = _mm256_set1_epi8(' ');
    uint64_t dg[2] = {0, 0}, dt[2] = {0, 0}, sg[2] = {0, 0}, bl[2] = {0, 0};
#pragma GCC unroll 4
    for (int j = 0; j < WIDE / 32; j++) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(p + 32 * j));
        __m256i x = _mm256_sub_epi8(v, zero);
        int sh = 32 * (j & 1), h = j >> 1;
        dg[h] |= (uint64_t)(uint32_t)_mm256_movemask_epi8(
                     _mm256_cmpeq_epi8(_mm256_min_epu8(x, nine), x))
                 << sh;
        dt[h] |= (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, dot)) << sh;
        sg[h] |= (uint64_t)(uint32_t)_mm256_movemask_epi8(
                     _mm256_or_si256(_mm256_cmpeq_epi8(v, minus), _mm256_cmpeq_epi8(v, plus)))
                 << sh;
        bl[h] |= (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, sp)) << sh;
    }
    return wide_line(r, keep, out, p, JOIN(dg), JOIN(dt), JOIN(sg), JOIN(bl));
#undef JOIN
}

typedef int (*line_fn)(Reader *, unsigned, double *);
static line_fn joint_line_wide = joint_line_sse2; /* joint_line_avx2 where the CPU has it */
#endif

/* The careful path: one joint line tokenised byte by byte. Returns the token count (values of
 * the `keep` fields stored when there are 12), -1 at end of input. On a bad value,
 * bad, badlen and badrc describe the first one. */
static int joint_line(Reader *r, unsigned keep, double *out, long *lineno, const char **bad,
                      size_t *badlen, int *badrc) {
    const char *st[JOINT_FIELDS];
    size_t ln[JOINT_FIELDS];
    int n = next_line(r, st, ln, JOINT_FIELDS, lineno);
    *bad = NULL;
    if (n != JOINT_FIELDS) return n;
    for (int k = 0; k < JOINT_FIELDS; k++) {
        double v = 0;
        int rc = parse_double(r, st[k], ln[k], &v);
        if (rc < 0) {
            *bad = st[k];
            *badlen = ln[k];
            *badrc = rc;
            return n;
        }
        if ((keep >> k) & 1) *out++ = v;
    }
    return n;
}

/* non-negative integer token; -1 on failure */
static int parse_count(const char *s, size_t n, long *out) {
    if (n == 0 || n > 9) return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int parse_id(const char *s, size_t n, int64_t *out) {
    if (n == 0 || n > 19) return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX) return -1;
    *out = (int64_t)v;
    return 0;
}

static int read_count_line(Reader *r, const char *what, long *out, long frame, long nframes) {
    const char *st[2];
    size_t ln[2];
    long lineno;
    int n = next_line(r, st, ln, 2, &lineno);
    if (n < 0) {
        snprintf(r->msg, sizeof(r->msg), "file ends before the %s of frame %ld of %ld (truncated)",
                 what, frame + 1, nframes);
        r->err_line = r->line;
        return -1;
    }
    if (n != 1) {
        snprintf(r->msg, sizeof(r->msg), "%s line has %d tokens, expected 1", what, n);
        r->err_line = lineno;
        return -1;
    }
    if (parse_count(st[0], ln[0], out) < 0)
        return fail(r, lineno, "expected a non-negative integer, got '%s'", st[0], ln[0], 0);
    return 0;
}

static int parse_all(Reader *r, unsigned keep, long *n_frames, Buf *bpf, Buf *ids, Buf *joints) {
    const char *st[BODY_FIELDS + 1];
    size_t ln[BODY_FIELDS + 1];
    long lineno;
    const int width = __builtin_popcount(keep);
    if (r->p >= r->end) {
        snprintf(r->msg, sizeof(r->msg), "empty file");
        r->err_line = 1;
        return -1;
    }
    int n = next_line(r, st, ln, 2, &lineno);
    if (n != 1) {
        snprintf(r->msg, sizeof(r->msg), "frame-count line has %d tokens, expected 1", n);
        r->err_line = lineno;
        return -1;
    }
    if (parse_count(st[0], ln[0], n_frames) < 0)
        return fail(r, lineno, "frame count must be a non-negative integer, got '%s'", st[0], ln[0],
                    0);
    long nf = *n_frames;
    for (long f = 0; f < nf; f++) {
        long nb;
        if (read_count_line(r, "body count", &nb, f, nf) < 0) return -1;
        int32_t nb32 = (int32_t)nb;
        if (buf_push(bpf, &nb32, sizeof nb32) < 0) return -3;
        for (long b = 0; b < nb; b++) {
            n = next_line(r, st, ln, BODY_FIELDS + 1, &lineno);
            if (n < 0) {
                snprintf(r->msg, sizeof(r->msg),
                         "file ends inside frame %ld of %ld: body %ld of %ld missing (truncated)",
                         f + 1, nf, b + 1, nb);
                r->err_line = r->line;
                return -1;
            }
            if (n != BODY_FIELDS) {
                snprintf(r->msg, sizeof(r->msg),
                         "body line (frame %ld, body %ld) has %d tokens, expected %d", f + 1, b + 1,
                         n, BODY_FIELDS);
                r->err_line = lineno;
                return -1;
            }
            int64_t id;
            if (parse_id(st[0], ln[0], &id) < 0)
                return fail(r, lineno, "body id must be a non-negative 64-bit integer, got '%s'",
                            st[0], ln[0], 0);
            for (int k = 1; k < BODY_FIELDS; k++) {
                double unused;
                int rc = parse_double(r, st[k], ln[k], &unused);
                if (rc == -2)
                    return fail(r, lineno, "non-finite value '%s' in body line", st[k], ln[k], 1);
                if (rc < 0)
                    return fail(r, lineno, "non-numeric value '%s' in body line", st[k], ln[k], 0);
            }
            if (buf_push(ids, &id, sizeof id) < 0) return -3;
            long nj;
            if (read_count_line(r, "joint count", &nj, f, nf) < 0) return -1;
            if (nj != NTU_JOINTS) {
                snprintf(r->msg, sizeof(r->msg), "joint count is %ld, expected %d", nj, NTU_JOINTS);
                r->err_line = r->line - 1;
                return -1;
            }
            if (buf_reserve(joints, sizeof(double) * NTU_JOINTS * (size_t)width) < 0) return -3;
            double *out = (double *)(joints->data + joints->len);
            for (int j = 0; j < NTU_JOINTS; j++, out += width) {
#ifdef HAVE_WIDE
                if (r->path == PATH_BEST && joint_line_wide(r, keep, out)) continue;
                if (r->path == PATH_SSE2 && joint_line_sse2(r, keep, out)) continue;
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                if (r->path != PATH_CAREFUL && joint_line_fast(r, keep, out)) continue;
#endif
                const char *bad;
                size_t badlen;
                int badrc;
                n = joint_line(r, keep, out, &lineno, &bad, &badlen, &badrc);
                if (n < 0) {
                    snprintf(r->msg, sizeof(r->msg),
                             "file ends inside frame %ld of %ld, body %ld: joint %d of %d missing "
                             "(truncated)",
                             f + 1, nf, b + 1, j + 1, NTU_JOINTS);
                    r->err_line = r->line;
                    return -1;
                }
                if (n != JOINT_FIELDS) {
                    snprintf(r->msg, sizeof(r->msg),
                             "joint line (frame %ld, body %ld, joint %d) has %d tokens, expected %d",
                             f + 1, b + 1, j + 1, n, JOINT_FIELDS);
                    r->err_line = lineno;
                    return -1;
                }
                if (bad)
                    return fail(r, lineno,
                                badrc == -2 ? "non-finite value '%s' in joint line"
                                            : "non-numeric value '%s' in joint line",
                                bad, badlen, badrc == -2);
            }
            joints->len += sizeof(double) * NTU_JOINTS * (size_t)width;
        }
    }
    /* Only blank lines may follow the last frame. */
    while (1) {
        n = next_line(r, st, ln, 1, &lineno);
        if (n < 0) break;
        if (n > 0) {
            snprintf(r->msg, sizeof(r->msg),
                     "unexpected content after the last of %ld declared frames", nf);
            r->err_line = lineno;
            return -1;
        }
    }
    return 0;
}

static PyObject *py_parse(PyObject *self, PyObject *args) {
    Py_buffer view;
    unsigned int keep = ALL_COLUMNS;
    int path = PATH_BEST;
    if (!PyArg_ParseTuple(args, "y*|Ii", &view, &keep, &path)) return NULL;
    if (keep == 0 || keep > ALL_COLUMNS || path < PATH_BEST || path > PATH_SSE2) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError,
                        "columns: a non-empty bit mask of the 12 fields; path: 0 (fastest), "
                        "1 (word at a time), 2 (careful), 3 (whole line with SSE2)");
        return NULL;
    }
    Reader r = {(const char *)view.buf, (const char *)view.buf + view.len, 1, {0}, 0, NULL, path};
    Buf bpf = {0}, ids = {0}, joints = {0};
    long n_frames = 0;
    int rc;
    /* about 100 bytes per joint line: reserve once for the usual case */
    rc = buf_reserve(&joints, (size_t)view.len / 100 * sizeof(double) * __builtin_popcount(keep));
    if (rc == 0) {
        r.ts = PyEval_SaveThread();
        rc = parse_all(&r, keep, &n_frames, &bpf, &ids, &joints);
        PyEval_RestoreThread(r.ts);
    } else {
        rc = -3;
    }
    PyBuffer_Release(&view);
    PyObject *res = NULL;
    if (rc == -3) {
        PyErr_NoMemory();
    } else if (rc < 0) {
        PyObject *exc_args = Py_BuildValue("(ls)", r.err_line, r.msg);
        if (exc_args) {
            PyErr_SetObject(PyExc_ValueError, exc_args);
            Py_DECREF(exc_args);
        }
    } else {
        res = Py_BuildValue("(ly#y#y#)", n_frames, bpf.data ? bpf.data : "", (Py_ssize_t)bpf.len,
                            ids.data ? ids.data : "", (Py_ssize_t)ids.len,
                            joints.data ? joints.data : "", (Py_ssize_t)joints.len);
    }
    PyMem_RawFree(bpf.data);
    PyMem_RawFree(ids.data);
    PyMem_RawFree(joints.data);
    return res;
}

/* ---- Denoising kernels ----------------------------------------------------------------------
 *
 * The numerical core of skeleton/ntu/denoise.py's two algorithms, with numpy's float semantics
 * reproduced operation for operation, so that every value (and so every comparison the
 * algorithms make) is the one numpy computes:
 *
 *   np.add.reduce over a contiguous (or uniformly strided) run: the identity 0.0 plus numpy's
 *     pairwise sum of the run (numpy/_core/src/umath/loops_utils.h.src): 8 accumulators up to
 *     128 values, above that two halves split at a multiple of 8;
 *   np.add.reduce over axis 0 of a C-contiguous (N, 3) array: each column summed row after
 *     row (the inner loop runs along the rows' 3 values);
 *   np.var / np.std (numpy/_core/_methods.py): mean = sum / n (true_divide by an intp, in
 *     float64), the squared deviations summed as above, / n, (std:) sqrt.
 *
 * No -ffast-math and no FMA contraction (setup.py passes -ffp-contract=off): every operation
 * rounds as numpy's does. tests/test_denoise.py compares these against the numpy code paths.
 *
 * energy_std(joints, width, bodies_per_frame) -> [e0, e1, e2, e3]
 *     the energy of MMAction2's four body slots: int 0 for a slot without a frame of non-zero
 *     sum, else the float sum over x, y, z of the population std (denoise._nonzero_std).
 * energy_slots(joints, width, bodies_per_frame, slots) -> bytes[float64 len(slots) x T x 25 x 3]
 *     those slots' joints placed by frame, zero elsewhere (denoise_energy's `data` rows).
 * pyskl_tracks(joints, width, body_ids, bodies_per_frame) -> [(kpt: bytes[float32 n x 25 x 3],
 *     start, motion, n_valid, valid_motion or None), ...]: PYSKL's body tracks in order of
 *     first appearance (denoise._tracks), with the spread test of every frame (x range <=
 *     0.8 * y range) and the motion of the valid frames when some, not all, are valid.
 * joints: float64 (n_bodies, 25, width), x y z its first three fields; body_ids int64;
 * bodies_per_frame int32.
 */

#define PW_BLOCKSIZE 128
#define ENERGY_SLOTS 4
#define PYSKL_WH_RATIO 0.8f /* numpy multiplies the float32 y range by float32(0.8) */

static double pairwise_sum(const double *a, Py_ssize_t n) {
    if (n < 8) {
        double res = -0.0;
        for (Py_ssize_t i = 0; i < n; i++) res += a[i];
        return res;
    }
    if (n <= PW_BLOCKSIZE) {
        double r[8], res;
        Py_ssize_t i;
        for (int k = 0; k < 8; k++) r[k] = a[k];
        for (i = 8; i < n - (n % 8); i += 8)
            for (int k = 0; k < 8; k++) r[k] += a[i + k];
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += a[i];
        return res;
    }
    Py_ssize_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

/* np.sum of a contiguous run */
static inline double np_sum(const double *a, Py_ssize_t n) { return 0.0 + pairwise_sum(a, n); }

/* np.std of a contiguous run (overwrites tmp[0..n)) */
static double np_std(const double *v, Py_ssize_t n, double *tmp) {
    double mean = np_sum(v, n) / (double)n;
    for (Py_ssize_t i = 0; i < n; i++) {
        double d = v[i] - mean;
        tmp[i] = d * d;
    }
    return sqrt(np_sum(tmp, n) / (double)n);
}

typedef struct {
    Py_buffer joints, ids, bpf;
    int width;
    Py_ssize_t n_bodies, n_frames;
    const double *j;
    const int32_t *b; /* bodies per frame; frames are walked with a running body index (no
                       * per-frame table: a file of empty frames is 2 bytes a frame) */
} Bodies;

static void bodies_release(Bodies *s) {
    if (s->joints.obj) PyBuffer_Release(&s->joints);
    if (s->ids.obj) PyBuffer_Release(&s->ids);
    if (s->bpf.obj) PyBuffer_Release(&s->bpf);
}

/* check the buffers agree with each other (ids: optional) */
static int bodies_init(Bodies *s) {
    if (s->width < 3 || s->width > JOINT_FIELDS || s->bpf.len % 4 ||
        s->joints.len % ((Py_ssize_t)sizeof(double) * NTU_JOINTS * s->width)) {
        PyErr_SetString(PyExc_ValueError, "joints / bodies_per_frame: wrong sizes");
        return -1;
    }
    s->n_frames = s->bpf.len / 4;
    s->n_bodies = s->joints.len / ((Py_ssize_t)sizeof(double) * NTU_JOINTS * s->width);
    s->j = (const double *)s->joints.buf;
    s->b = (const int32_t *)s->bpf.buf;
    if (s->ids.obj && s->ids.len != s->n_bodies * 8) {
        PyErr_SetString(PyExc_ValueError, "body_ids: one per body expected");
        return -1;
    }
    Py_ssize_t total = 0;
    for (Py_ssize_t f = 0; f <= s->n_frames; f++) {
        if (f == s->n_frames ? total != s->n_bodies : s->b[f] < 0 || s->b[f] > s->n_bodies - total) {
            PyErr_SetString(PyExc_ValueError, "bodies_per_frame does not add up to the bodies");
            return -1;
        }
        if (f < s->n_frames) total += s->b[f];
    }
    return 0;
}

static inline const double *joint(const Bodies *s, Py_ssize_t body, int j) {
    return s->j + ((size_t)body * NTU_JOINTS + (size_t)j) * (size_t)s->width;
}

static PyObject *py_energy_std(PyObject *self, PyObject *args) {
    Bodies s = {0};
    if (!PyArg_ParseTuple(args, "y*iy*", &s.joints, &s.width, &s.bpf)) return NULL;
    PyObject *res = NULL;
    Py_ssize_t *rows = NULL;
    double *v = NULL;
    if (bodies_init(&s) < 0) goto done;
    /* a slot has at most one body per frame, and at most n_bodies in all: sized by the bodies,
     * not the header's frame count (a file of empty frames is 2 bytes a frame) */
    rows = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(s.n_bodies + 1));
    v = PyMem_Malloc(sizeof(double) * 2 * (size_t)(s.n_bodies * NTU_JOINTS + 1));
    if (!rows || !v) {
        PyErr_NoMemory();
        goto done;
    }
    double *tmp = v + s.n_bodies * NTU_JOINTS;
    res = PyList_New(ENERGY_SLOTS);
    if (!res) goto done;
    for (int slot = 0; slot < ENERGY_SLOTS; slot++) {
        /* the slot's frames whose sum over joints and coordinates is not 0: x.sum(-1).sum(-1) */
        Py_ssize_t k = 0, first = 0; /* first: the frame's first body */
        for (Py_ssize_t f = 0; f < s.n_frames; first += s.b[f++]) {
            if (s.b[f] <= slot) continue;
            Py_ssize_t body = first + slot;
            double js[NTU_JOINTS];
            for (int jt = 0; jt < NTU_JOINTS; jt++) {
                const double *p = joint(&s, body, jt);
                js[jt] = 0.0 + pairwise_sum(p, 3);
            }
            if (np_sum(js, NTU_JOINTS) != 0) rows[k++] = body;
        }
        PyObject *e;
        if (k == 0) {
            e = PyLong_FromLong(0);
        } else {
            double total = 0;
            for (int c = 0; c < 3; c++) {
                for (Py_ssize_t i = 0; i < k; i++)
                    for (int jt = 0; jt < NTU_JOINTS; jt++)
                        v[i * NTU_JOINTS + jt] = joint(&s, rows[i], jt)[c];
                double sd = np_std(v, k * NTU_JOINTS, tmp);
                total = c == 0 ? sd : total + sd;
            }
            e = PyFloat_FromDouble(total);
        }
        if (!e) {
            Py_CLEAR(res);
            goto done;
        }
        PyList_SET_ITEM(res, slot, e);
    }
done:
    PyMem_Free(rows);
    PyMem_Free(v);
    bodies_release(&s);
    return res;
}

static PyObject *py_energy_slots(PyObject *self, PyObject *args) {
    Bodies s = {0};
    PyObject *slots_obj, *res = NULL;
    if (!PyArg_ParseTuple(args, "y*iy*O", &s.joints, &s.width, &s.bpf, &slots_obj)) return NULL;
    PyObject *slots = PySequence_Fast(slots_obj, "slots: a sequence of ints");
    if (!slots || bodies_init(&s) < 0) goto done;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(slots), frame = (Py_ssize_t)NTU_JOINTS * 3;
    res = PyBytes_FromStringAndSize(NULL, n * s.n_frames * frame * (Py_ssize_t)sizeof(double));
    if (!res) goto done;
    double *out = (double *)PyBytes_AS_STRING(res);
    memset(out, 0, (size_t)PyBytes_GET_SIZE(res));
    for (Py_ssize_t i = 0; i < n; i++) {
        long slot = PyLong_AsLong(PySequence_Fast_GET_ITEM(slots, i));
        if (slot == -1 && PyErr_Occurred()) {
            Py_CLEAR(res);
            goto done;
        }
        Py_ssize_t first = 0; /* the frame's first body */
        for (Py_ssize_t f = 0; f < s.n_frames; first += s.b[f++]) {
            if (slot < 0 || s.b[f] <= slot) continue;
            double *o = out + (i * s.n_frames + f) * frame;
            for (int jt = 0; jt < NTU_JOINTS; jt++)
                memcpy(o + 3 * jt, joint(&s, first + slot, jt), 3 * sizeof(double));
        }
    }
done:
    Py_XDECREF(slots);
    bodies_release(&s);
    return res;
}

/* var over axis 0 of the (rows, 3) float32 rows of the frames with mask[f] (NULL: all), summed
 * over x, y, z: np.sum(np.var(kpt.reshape(-1, 3), axis=0)) of those frames */
static float motion(const float *kpt, Py_ssize_t n_frames, const char *mask) {
    const Py_ssize_t per = (Py_ssize_t)NTU_JOINTS * 3;
    float sum[3] = {0.0f, 0.0f, 0.0f}, mean[3], var[3];
    Py_ssize_t rows = 0;
    for (Py_ssize_t f = 0; f < n_frames; f++) {
        if (mask && !mask[f]) continue;
        for (int jt = 0; jt < NTU_JOINTS; jt++)
            for (int c = 0; c < 3; c++) sum[c] += kpt[f * per + 3 * jt + c];
        rows += NTU_JOINTS;
    }
    for (int c = 0; c < 3; c++) {
        mean[c] = (float)((double)sum[c] / (double)rows);
        sum[c] = 0.0f;
    }
    for (Py_ssize_t f = 0; f < n_frames; f++) {
        if (mask && !mask[f]) continue;
        for (int jt = 0; jt < NTU_JOINTS; jt++)
            for (int c = 0; c < 3; c++) {
                float d = kpt[f * per + 3 * jt + c] - mean[c];
                float d2 = d * d;
                sum[c] += d2;
            }
    }
    for (int c = 0; c < 3; c++) var[c] = (float)((double)sum[c] / (double)rows);
    float res = -0.0f;
    for (int c = 0; c < 3; c++) res += var[c];
    return 0.0f + res;
}

/* numpy's max - min of 25 float32 values at stride 3 (NaN propagates) */
static inline float spread(const float *p) {
    float hi = p[0], lo = p[0];
    int nan = p[0] != p[0];
    for (int jt = 1; jt < NTU_JOINTS; jt++) {
        float v = p[3 * jt];
        nan |= v != v;
        if (v > hi) hi = v;
        if (v < lo) lo = v;
    }
    return nan ? NAN : hi - lo;
}

typedef struct {
    int64_t id;
    Py_ssize_t index;
} Occurrence;

static int by_id_then_index(const void *a, const void *b) {
    const Occurrence *x = a, *y = b;
    if (x->id != y->id) return x->id < y->id ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static int by_first_index(const void *a, const void *b) {
    const Occurrence *x = a, *y = b; /* here: index = first occurrence, id = group start */
    return x->index < y->index ? -1 : x->index > y->index;
}

static PyObject *py_pyskl_tracks(PyObject *self, PyObject *args) {
    Bodies s = {0};
    if (!PyArg_ParseTuple(args, "y*iy*y*", &s.joints, &s.width, &s.ids, &s.bpf)) return NULL;
    PyObject *res = NULL;
    Occurrence *occ = NULL, *groups = NULL;
    Py_ssize_t *rank = NULL;
    char *mask = NULL;
    if (bodies_init(&s) < 0) goto done;
    Py_ssize_t nb = s.n_bodies, per = (Py_ssize_t)NTU_JOINTS * 3;
    occ = PyMem_Malloc(sizeof(Occurrence) * (size_t)(nb + 1));
    groups = PyMem_Malloc(sizeof(Occurrence) * (size_t)(nb + 1));
    rank = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(nb + 1));
    mask = PyMem_Malloc((size_t)nb + 1);
    if (!occ || !groups || !rank || !mask) {
        PyErr_NoMemory();
        goto done;
    }
    /* rank[body]: index of its frame among the frames with a body */
    Py_ssize_t nonempty = 0, body = 0;
    for (Py_ssize_t f = 0; f < s.n_frames; f++) {
        for (int32_t k = 0; k < s.b[f]; k++) rank[body++] = nonempty;
        nonempty += s.b[f] > 0;
    }
    const int64_t *ids = (const int64_t *)s.ids.buf;
    for (Py_ssize_t i = 0; i < nb; i++) occ[i] = (Occurrence){ids[i], i};
    qsort(occ, (size_t)nb, sizeof(Occurrence), by_id_then_index);
    Py_ssize_t ng = 0;
    for (Py_ssize_t i = 0; i < nb; i++)
        if (i == 0 || occ[i].id != occ[i - 1].id) groups[ng++] = (Occurrence){i, occ[i].index};
    qsort(groups, (size_t)ng, sizeof(Occurrence), by_first_index);
    res = PyList_New(ng);
    if (!res) goto done;
    for (Py_ssize_t g = 0; g < ng; g++) {
        Py_ssize_t lo = (Py_ssize_t)groups[g].id, hi = lo;
        while (hi < nb && occ[hi].id == occ[lo].id) hi++;
        Py_ssize_t n = hi - lo, n_valid = 0;
        PyObject *kpt = PyBytes_FromStringAndSize(NULL, n * per * (Py_ssize_t)sizeof(float));
        if (!kpt) {
            Py_CLEAR(res);
            goto done;
        }
        float *k = (float *)PyBytes_AS_STRING(kpt);
        for (Py_ssize_t i = 0; i < n; i++) {
            for (int jt = 0; jt < NTU_JOINTS; jt++) {
                const double *p = joint(&s, occ[lo + i].index, jt);
                for (int c = 0; c < 3; c++) k[i * per + 3 * jt + c] = (float)p[c];
            }
            const float *fr = k + i * per;
            mask[i] = spread(fr) <= PYSKL_WH_RATIO * spread(fr + 1);
            n_valid += mask[i];
        }
        PyObject *valid_motion = Py_None;
        Py_INCREF(Py_None);
        if (n_valid > 0 && n_valid < n) {
            Py_DECREF(Py_None);
            valid_motion = PyFloat_FromDouble(motion(k, n, mask));
        }
        PyObject *t = valid_motion ? Py_BuildValue("(NndnN)", kpt, rank[groups[g].index],
                                                   (double)motion(k, n, NULL), n_valid,
                                                   valid_motion)
                                   : NULL;
        if (!t) {
            if (!valid_motion) Py_DECREF(kpt);
            Py_CLEAR(res);
            goto done;
        }
        PyList_SET_ITEM(res, g, t);
    }
done:
    PyMem_Free(occ);
    PyMem_Free(groups);
    PyMem_Free(rank);
    PyMem_Free(mask);
    bodies_release(&s);
    return res;
}

/* ---- float16: numpy's astype(np.float16) -------------------------------------------------
 * IEEE binary16 with round to nearest, ties to even, straight from the float64 or float32 value
 * (no double rounding through float32), overflow to inf; NaN keeps the top payload bits, and
 * stays a NaN, as numpy's conversion does (numpy's runs in software, ~9 ns a value here).
 *
 * to_float16(values: buffer, kind: 'd' (float64) or 'f' (float32)) -> bytearray[float16]
 */

static uint16_t half_from_double_bits(uint64_t b) {
    uint16_t sign = (uint16_t)((b >> 48) & 0x8000u);
    uint64_t a = b & 0x7fffffffffffffffULL, mant = a & 0x000fffffffffffffULL;
    int e = (int)(a >> 52);
    if (e == 0x7ff) {
        if (!mant) return sign | 0x7c00u;
        uint16_t h = (uint16_t)(0x7c00u | (mant >> 42));
        return sign | (h == 0x7c00u ? 0x7c01u : h);
    }
    if (e >= 1039) return sign | 0x7c00u; /* >= 2^16: inf (65520 up to it rounds there below) */
    uint64_t q, rem, halfway;
    if (e >= 1009) { /* a normal half: 10 of the 52 mantissa bits */
        q = ((uint64_t)(e - 1008) << 10) | (mant >> 42);
        rem = mant & ((1ULL << 42) - 1);
        halfway = 1ULL << 41;
    } else { /* a subnormal half (or zero): multiples of 2^-24 */
        int sh = 1051 - e;
        if (e == 0 || sh > 63) return sign;
        uint64_t m = mant | (1ULL << 52);
        q = m >> sh;
        rem = m & ((1ULL << sh) - 1);
        halfway = 1ULL << (sh - 1);
    }
    if (rem > halfway || (rem == halfway && (q & 1))) q++; /* a carry may make the next binade */
    return sign | (uint16_t)q;
}

static uint16_t half_from_float_bits(uint32_t f) {
    if ((f & 0x7f800000u) == 0x7f800000u) { /* inf, NaN: from the float's own payload */
        uint16_t sign = (uint16_t)((f >> 16) & 0x8000u), h = (uint16_t)(0x7c00u | ((f & 0x007fffffu) >> 13));
        return sign | ((f & 0x007fffffu) && h == 0x7c00u ? 0x7c01u : h);
    }
    float v;
    double d;
    uint64_t b;
    memcpy(&v, &f, 4);
    d = v; /* exact */
    memcpy(&b, &d, 8);
    return half_from_double_bits(b);
}

static PyObject *py_to_float16(PyObject *self, PyObject *args) {
    Py_buffer view;
    int kind;
    if (!PyArg_ParseTuple(args, "y*C", &view, &kind)) return NULL;
    Py_ssize_t size = kind == 'd' ? 8 : kind == 'f' ? 4 : 0;
    if (!size || view.len % size) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "to_float16: kind 'd' or 'f', whole values");
        return NULL;
    }
    Py_ssize_t n = view.len / size;
    PyObject *res = PyByteArray_FromStringAndSize(NULL, n * 2);
    if (res) {
        uint16_t *out = (uint16_t *)PyByteArray_AS_STRING(res);
        const char *in = view.buf;
        for (Py_ssize_t i = 0; i < n; i++) {
            if (kind == 'd') {
                uint64_t b;
                memcpy(&b, in + 8 * i, 8);
                out[i] = half_from_double_bits(b);
            } else {
                uint32_t b;
                memcpy(&b, in + 4 * i, 4);
                out[i] = half_from_float_bits(b);
            }
        }
    }
    PyBuffer_Release(&view);
    return res;
}

static PyMethodDef methods[] = {
    {"parse", py_parse, METH_VARARGS, "Parse .skeleton bytes; see module docstring."},
    {"energy_std", py_energy_std, METH_VARARGS, "MMAction2's slot energies; see above."},
    {"energy_slots", py_energy_slots, METH_VARARGS, "Body slots placed by frame; see above."},
    {"pyskl_tracks", py_pyskl_tracks, METH_VARARGS, "PYSKL's body tracks; see above."},
    {"to_float16", py_to_float16, METH_VARARGS, "numpy's astype(np.float16); see above."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef moddef = {PyModuleDef_HEAD_INIT, "_skelparse",
                                    "Fast strict .skeleton reader.", -1, methods};

PyMODINIT_FUNC PyInit__skelparse(void) {
    init_classes();
#ifdef HAVE_WIDE
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2") &&
        __builtin_cpu_supports("popcnt"))
        joint_line_wide = joint_line_avx2;
#endif
    return PyModule_Create(&moddef);
}
