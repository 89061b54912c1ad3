/*
 * Fast, strict reader for NTU RGB+D / Kinect v2 `.skeleton` text files.
 *
 * One pass over the bytes; no per-token Python objects. Layout (see DESIGN.md):
 *   frame count
 *   per frame: body count
 *     per body: 10 fields (body id first, an integer of up to 19 digits), joint count (25),
 *               then one line of 12 numbers per joint.
 * Anything else (token counts, truncation, non-numeric or non-finite values, trailing content)
 * raises ValueError((line, reason)). Numbers use Clinger's exact fast path (mantissa < 2^53,
 * |exponent| <= 22: one correctly rounded IEEE operation) and fall back to CPython's correctly
 * rounded PyOS_string_to_double, so every value equals Python's float(token) bit for bit.
 *
 * parse(data: bytes) -> (n_frames, bodies_per_frame: bytes[int32],
 *                        body_ids: bytes[int64], joints: bytes[float64 n x 25 x 12])
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define NTU_JOINTS 25
#define JOINT_FIELDS 12
#define BODY_FIELDS 10

typedef struct {
    const char *p;   /* current position */
    const char *end; /* end of buffer */
    long line;       /* 1-based number of the line that starts at p */
    char msg[256];
    long err_line;
} Reader;

typedef struct {
    char *data;
    size_t len, cap;
} Buf;

static int buf_push(Buf *b, const void *src, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        char *d = PyMem_Realloc(b->data, cap);
        if (!d) return -1;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, src, n);
    b->len += n;
    return 0;
}

static const double POW10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static inline int is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int fail(Reader *r, long line, const char *fmt, const char *tok, size_t toklen) {
    char shown[48];
    size_t n = toklen < sizeof(shown) - 1 ? toklen : sizeof(shown) - 1;
    if (tok) {
        /* show the token with non-printable bytes replaced */
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)tok[i];
            shown[i] = (c >= 32 && c < 127) ? (char)c : '?';
        }
    }
    shown[tok ? n : 0] = 0;
    snprintf(r->msg, sizeof(r->msg), fmt, shown);
    r->err_line = line;
    return -1;
}

/* Split the next line into tokens. Returns the token count (up to max, counting all), sets
 * starts/lens for the first `max`. Returns -1 at end of input. */
static int next_line(Reader *r, const char **starts, size_t *lens, int max, long *lineno) {
    if (r->p >= r->end) return -1;
    const char *p = r->p, *end = r->end;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    int n = 0;
    while (p < le) {
        while (p < le && is_blank(*p)) p++;
        if (p >= le) break;
        const char *s = p;
        while (p < le && !is_blank(*p)) p++;
        if (n < max) {
            starts[n] = s;
            lens[n] = (size_t)(p - s);
        }
        n++;
    }
    *lineno = r->line;
    r->p = nl ? nl + 1 : end;
    r->line++;
    return n;
}

/* Parse a decimal number exactly like Python's float(); rejects nan/inf. 0 ok, -1 bad, -2 nonfinite */
static int parse_double(const char *s, size_t n, double *out) {
    const char *p = s, *e = s + n;
    int neg = 0;
    if (p < e && (*p == '-' || *p == '+')) neg = (*p++ == '-');
    uint64_t m = 0;
    int digits = 0, sig = 0, exp10 = 0, seen_dot = 0, any = 0, dropped = 0;
    for (; p < e; p++) {
        char c = *p;
        if (c >= '0' && c <= '9') {
            any = 1;
            if (m == 0 && c == '0') {
                if (seen_dot) exp10--;
                continue; /* leading zeros are not significant */
            }
            if (sig < 19) {
                m = m * 10 + (uint64_t)(c - '0');
                sig++;
                if (seen_dot) exp10--;
            } else {
                dropped = 1;
                if (!seen_dot) exp10++;
            }
            digits++;
        } else if (c == '.' && !seen_dot) {
            seen_dot = 1;
        } else {
            break;
        }
    }
    if (!any) {
        /* nan / inf spelled out: numeric-looking but not allowed */
        if (e - p >= 3 && (((p[0] | 32) == 'n' && (p[1] | 32) == 'a' && (p[2] | 32) == 'n') ||
                           ((p[0] | 32) == 'i' && (p[1] | 32) == 'n' && (p[2] | 32) == 'f')))
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
    /* Slow, exact path for long mantissas and large exponents. */
    char tmp[128];
    if (n >= sizeof(tmp)) return -1;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    double v = PyOS_string_to_double(tmp, NULL, NULL);
    if (v == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        return -1;
    }
    if (!(v - v == 0.0)) return -2; /* overflow to inf */
    *out = v;
    return 0;
}

/* Read one line of numbers in a single pass: tokens are split and parsed as they are scanned.
 * Common tokens (sign, <= 19 significant digits, optional fraction and exponent) take the exact
 * fast path inline; anything else goes through parse_double, which decides and reports.
 * Returns the token count (values stored for the first `max`), -1 at end of input.
 * On a bad value, *bad/*badlen/*badrc describe the first one. */
static int next_numbers(Reader *r, double *vals, int max, long *lineno, const char **bad,
                        size_t *badlen, int *badrc) {
    const char *p = r->p, *end = r->end;
    if (p >= end) return -1;
    int n = 0;
    *bad = NULL;
    while (1) {
        while (p < end && is_blank(*p)) p++;
        if (p >= end || *p == '\n') break;
        const char *s = p;
        int neg = 0;
        if (*p == '-' || *p == '+') neg = (*p++ == '-');
        uint64_t m = 0;
        int sig = 0, exp10 = 0, any = 0, simple = 1;
        for (; p < end && (unsigned)(*p - '0') < 10; p++) {
            any = 1;
            if (m == 0 && *p == '0') continue;
            if (sig < 19) {
                m = m * 10 + (uint64_t)(*p - '0');
                sig++;
            } else {
                simple = 0;
            }
        }
        if (p < end && *p == '.') {
            for (p++; p < end && (unsigned)(*p - '0') < 10; p++) {
                any = 1;
                if (m == 0 && *p == '0') {
                    exp10--;
                    continue;
                }
                if (sig < 19) {
                    m = m * 10 + (uint64_t)(*p - '0');
                    sig++;
                    exp10--;
                } else {
                    simple = 0;
                }
            }
        }
        if (p < end && (*p == 'e' || *p == 'E')) {
            p++;
            int eneg = 0, ev = 0, edig = 0;
            if (p < end && (*p == '-' || *p == '+')) eneg = (*p++ == '-');
            for (; p < end && (unsigned)(*p - '0') < 10; p++) {
                if (ev < 100000) ev = ev * 10 + (*p - '0');
                edig++;
            }
            if (!edig) simple = 0;
            exp10 += eneg ? -ev : ev;
        }
        if (p < end && !is_blank(*p) && *p != '\n') {
            simple = 0;
            while (p < end && !is_blank(*p) && *p != '\n') p++;
        }
        if (n < max) {
            if (simple && any && m < (1ULL << 53) && exp10 >= -22 && exp10 <= 22) {
                double v = (double)m;
                v = exp10 < 0 ? v / POW10[-exp10] : v * POW10[exp10];
                vals[n] = neg ? -v : v;
            } else {
                int rc = parse_double(s, (size_t)(p - s), &vals[n]);
                if (rc < 0 && *bad == NULL) {
                    *bad = s;
                    *badlen = (size_t)(p - s);
                    *badrc = rc;
                }
            }
        }
        n++;
    }
    *lineno = r->line;
    r->p = p < end ? p + 1 : end;
    r->line++;
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
        return fail(r, lineno, "expected a non-negative integer, got '%s'", st[0], ln[0]);
    return 0;
}

static int parse_all(Reader *r, long *n_frames, Buf *bpf, Buf *ids, Buf *joints) {
    const char *st[JOINT_FIELDS + 1];
    size_t ln[JOINT_FIELDS + 1];
    long lineno;
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
        return fail(r, lineno, "frame count must be a non-negative integer, got '%s'", st[0], ln[0]);
    long nf = *n_frames;
    double row[JOINT_FIELDS];
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
                            st[0], ln[0]);
            for (int k = 1; k < BODY_FIELDS; k++) {
                int rc = parse_double(st[k], ln[k], &row[0]);
                if (rc == -2) return fail(r, lineno, "non-finite value '%s' in body line", st[k], ln[k]);
                if (rc < 0) return fail(r, lineno, "non-numeric value '%s' in body line", st[k], ln[k]);
            }
            if (buf_push(ids, &id, sizeof id) < 0) return -3;
            long nj;
            if (read_count_line(r, "joint count", &nj, f, nf) < 0) return -1;
            if (nj != NTU_JOINTS) {
                snprintf(r->msg, sizeof(r->msg), "joint count is %ld, expected %d", nj, NTU_JOINTS);
                r->err_line = r->line - 1;
                return -1;
            }
            for (int j = 0; j < NTU_JOINTS; j++) {
                const char *bad;
                size_t badlen;
                int badrc;
                n = next_numbers(r, row, JOINT_FIELDS, &lineno, &bad, &badlen, &badrc);
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
                                bad, badlen);
                if (buf_push(joints, row, sizeof row) < 0) return -3;
            }
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
    if (!PyArg_ParseTuple(args, "y*", &view)) return NULL;
    Reader r = {(const char *)view.buf, (const char *)view.buf + view.len, 1, {0}, 0};
    Buf bpf = {0}, ids = {0}, joints = {0};
    long n_frames = 0;
    int rc = parse_all(&r, &n_frames, &bpf, &ids, &joints);
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
    PyMem_Free(bpf.data);
    PyMem_Free(ids.data);
    PyMem_Free(joints.data);
    return res;
}

static PyMethodDef methods[] = {
    {"parse", py_parse, METH_VARARGS, "Parse .skeleton bytes; see module docstring."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef moddef = {PyModuleDef_HEAD_INIT, "_skelparse",
                                    "Fast strict .skeleton reader.", -1, methods};

PyMODINIT_FUNC PyInit__skelparse(void) { return PyModule_Create(&moddef); }
