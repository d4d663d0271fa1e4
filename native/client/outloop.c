/*
 * `outloop` in system mode, as a native program: the same client as src/system/client.ts, speaking the
 * same protocol (src/system/protocol.ts) to outloopd, without starting Node. An agent calls `outloop exec`
 * thousands of times; Node's own start-up is the whole of the JavaScript client's cost, so the one way
 * under it is not to start Node at all (as `op` and `ssh` are native programs).
 *
 * It holds nothing: it sends argv, the working directory and a few presentation variables, relays stdin
 * for the commands that read it, and writes what the daemon sends. Everything it does not do itself
 * (personal mode, `system`, `session`, `--version`, `init --agent`, a hidden prompt for `secrets set`) is
 * handed to the JavaScript CLI of the package it was built in, so the two never disagree on a decision.
 *
 * The daemon is trusted (its socket is root's to place), but every frame is still checked: a length over
 * the limit or a frame that is not a JSON object with a type ends the client with exit 69, as in Node.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Must match src/system/protocol.ts; test/system/native-client.test.ts compares the two. */
#define PROTOCOL_VERSION 1
#define MAX_FRAME (1u << 20)
#define STDIN_PIECE (256 * 1024)
#define DEFAULT_SOCKET "/run/outloop/broker.sock"
#define MARKER "/etc/outloop/system.json"
#define EX_USAGE 64
#define EX_UNAVAILABLE 69
#define EX_SOFTWARE 70

static const char *const PASSED_ENV[] = {"OUTLOOP_TENANT", "NO_COLOR", "FORCE_COLOR", "TERM", "COLUMNS"};
/* Commands whose stdin carries data (client.ts READS_STDIN). */
static const char *const READS_STDIN[] = {"redact", "secrets", "audit", "approve", "deny", "mcp", "run", "import"};

static const char *socket_path;

/* ---- growable byte buffer ---- */

typedef struct {
  char *p;
  size_t len, cap;
} buf_t;

static void oom(void) {
  static const char m[] = "outloop: out of memory\n";
  (void)!write(2, m, sizeof m - 1);
  _exit(EX_SOFTWARE);
}

static void buf_reserve(buf_t *b, size_t more) {
  if (b->len + more <= b->cap) return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + more) cap *= 2;
  char *p = realloc(b->p, cap);
  if (!p) oom();
  b->p = p;
  b->cap = cap;
}

static void buf_add(buf_t *b, const void *s, size_t n) {
  buf_reserve(b, n);
  memcpy(b->p + b->len, s, n);
  b->len += n;
}

static void buf_str(buf_t *b, const char *s) { buf_add(b, s, strlen(s)); }

/* ---- output ---- */

/* Whole writes, also to a descriptor someone made non-blocking. */
static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = fd >= 3 ? send(fd, p, n, MSG_NOSIGNAL) : write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        struct pollfd q = {.fd = fd, .events = POLLOUT};
        poll(&q, 1, -1);
        continue;
      }
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static const char *errno_code(int e) {
  switch (e) {
    case ENOENT: return "ENOENT";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOTDIR: return "ENOTDIR";
    case ENOTSOCK: return "ENOTSOCK";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ELOOP: return "ELOOP";
    case EAGAIN: return "EAGAIN";
    case ECONNRESET: return "ECONNRESET";
    default: return strerror(e);
  }
}

static _Noreturn void unavailable(const char *what) {
  buf_t b = {0};
  buf_str(&b, "outloop: ");
  buf_str(&b, what);
  buf_str(&b, " [daemon_unavailable]\nnext: A person checks the daemon (systemctl status outloopd) and the socket ");
  buf_str(&b, socket_path);
  buf_str(&b, "; outloop does not fall back to personal mode.\n");
  (void)write_all(2, b.p, b.len);
  exit(EX_UNAVAILABLE);
}

static _Noreturn void bad_frame(const char *why) {
  char m[256];
  snprintf(m, sizeof m, "the outloop daemon sent a bad frame (%s)", why);
  unavailable(m);
}

/* ---- JSON out: strings as JSON.stringify writes them from Node's UTF-8 decoding ---- */

/* Length of the valid UTF-8 sequence at s (WHATWG rules, as V8 decodes argv), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  if (c < 0x80) return 1;
  size_t len;
  unsigned lo = 0x80, hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) len = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else return 0;
  for (size_t i = 1; i < len; i++) {
    if (i >= n) return 0;
    unsigned d = s[i];
    if (d < (i == 1 ? lo : 0x80) || d > (i == 1 ? hi : 0xbf)) return 0;
  }
  return len;
}

/* The bytes V8 would replace by one U+FFFD: the longest prefix of a sequence that could still be valid. */
static size_t utf8_bad(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  size_t want = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 1;
  unsigned lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80, hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
  size_t i = 1;
  while (i < want && i < n && s[i] >= (i == 1 ? lo : 0x80) && s[i] <= (i == 1 ? hi : 0xbf)) i++;
  return i;
}

static void json_str(buf_t *b, const char *str) {
  const unsigned char *s = (const unsigned char *)str;
  size_t n = strlen(str);
  buf_add(b, "\"", 1);
  while (n > 0) {
    unsigned c = *s;
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      buf_add(b, e, 2);
    } else if (c < 0x20) {
      const char *named = c == '\b' ? "\\b" : c == '\f' ? "\\f" : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
      char e[8];
      if (!named) snprintf(e, sizeof e, "\\u%04x", c);
      buf_str(b, named ? named : e);
    } else {
      size_t len = utf8_seq(s, n);
      if (len == 0) {
        buf_add(b, "\xef\xbf\xbd", 3);
        len = utf8_bad(s, n);
      } else buf_add(b, s, len);
      s += len;
      n -= len;
      continue;
    }
    s++;
    n--;
  }
  buf_add(b, "\"", 1);
}

/* ---- JSON in: the flat objects the daemon sends ({"t":..,"d":..,"code":..,...}) ---- */

typedef struct {
  const char *p, *end;
} cur_t;

static void ws(cur_t *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

static int hexval(char h) {
  return h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
}

static int hex4(cur_t *c, unsigned *out) {
  if (c->end - c->p < 4) return -1;
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hexval(c->p[i]);
    if (h < 0) return -1;
    v = v << 4 | (unsigned)h;
  }
  c->p += 4;
  *out = v;
  return 0;
}

static void put_utf8(buf_t *b, unsigned cp) {
  char u[4];
  size_t n;
  if (cp < 0x80) u[0] = (char)cp, n = 1;
  else if (cp < 0x800) u[0] = (char)(0xc0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
  else if (cp < 0x10000) u[0] = (char)(0xe0 | cp >> 12), u[1] = (char)(0x80 | (cp >> 6 & 0x3f)), u[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
  else u[0] = (char)(0xf0 | cp >> 18), u[1] = (char)(0x80 | (cp >> 12 & 0x3f)), u[2] = (char)(0x80 | (cp >> 6 & 0x3f)), u[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
  buf_add(b, u, n);
}

/* A JSON string at c->p (past nothing yet), decoded into out (NUL-terminated) when out is not NULL. */
static int jstring(cur_t *c, buf_t *out) {
  if (c->p >= c->end || *c->p != '"') return -1;
  c->p++;
  while (c->p < c->end) {
    unsigned char ch = (unsigned char)*c->p++;
    if (ch == '"') {
      if (out) buf_add(out, "", 1);
      return 0;
    }
    if (ch < 0x20) return -1;
    if (ch != '\\') {
      if (out) buf_add(out, &ch, 1);
      continue;
    }
    if (c->p >= c->end) return -1;
    char e = *c->p++;
    const char *simple = strchr("\"\\/bfnrt", e);
    if (e && simple) {
      static const char map[] = "\"\\/\b\f\n\r\t";
      if (out) buf_add(out, &map[simple - "\"\\/bfnrt"], 1);
      continue;
    }
    if (e != 'u') return -1;
    unsigned cp;
    if (hex4(c, &cp)) return -1;
    if (cp >= 0xd800 && cp <= 0xdbff && c->end - c->p >= 6 && c->p[0] == '\\' && c->p[1] == 'u') {
      cur_t peek = {c->p + 2, c->end};
      unsigned lo;
      if (!hex4(&peek, &lo) && lo >= 0xdc00 && lo <= 0xdfff) {
        c->p = peek.p;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
      }
    }
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd; /* a lone surrogate, as Buffer.from would write it */
    if (out) put_utf8(out, cp);
  }
  return -1;
}

/* Any JSON value, skipped; depth-limited so a hostile frame cannot exhaust the stack. */
static int jskip(cur_t *c, int depth) {
  ws(c);
  if (c->p >= c->end || depth > 64) return -1;
  char ch = *c->p;
  if (ch == '"') return jstring(c, NULL);
  if (ch == '{' || ch == '[') {
    char close = ch == '{' ? '}' : ']';
    c->p++;
    ws(c);
    if (c->p < c->end && *c->p == close) return c->p++, 0;
    for (;;) {
      if (ch == '{') {
        ws(c);
        if (jstring(c, NULL)) return -1;
        ws(c);
        if (c->p >= c->end || *c->p++ != ':') return -1;
      }
      if (jskip(c, depth + 1)) return -1;
      ws(c);
      if (c->p >= c->end) return -1;
      if (*c->p == ',') {
        c->p++;
        continue;
      }
      if (*c->p++ == close) return 0;
      return -1;
    }
  }
  const char *start = c->p;
  while (c->p < c->end && strchr("+-.0123456789eEtruefalsn", *c->p)) c->p++;
  size_t n = (size_t)(c->p - start);
  if (n == 0) return -1;
  if ((n == 4 && !memcmp(start, "true", 4)) || (n == 5 && !memcmp(start, "false", 5)) || (n == 4 && !memcmp(start, "null", 4))) return 0;
  char num[64];
  if (n >= sizeof num) return -1;
  memcpy(num, start, n);
  num[n] = 0;
  char *endp;
  strtod(num, &endp);
  return *endp ? -1 : 0;
}

typedef struct {
  buf_t t, d, code_s, message, next;
  int has_code_n, has_exit;
  double code_n, exit;
} frame_t;

static void frame_clear(frame_t *f) {
  buf_t *bs[] = {&f->t, &f->d, &f->code_s, &f->message, &f->next};
  for (size_t i = 0; i < sizeof bs / sizeof *bs; i++) bs[i]->len = 0;
  f->has_code_n = f->has_exit = 0;
}

static int jnumber(cur_t *c, double *out) {
  const char *start = c->p;
  if (jskip(c, 0)) return -1;
  char num[64];
  size_t n = (size_t)(c->p - start);
  if (n >= sizeof num || !(start[0] == '-' || (start[0] >= '0' && start[0] <= '9'))) return 1; /* not a number */
  memcpy(num, start, n);
  num[n] = 0;
  *out = strtod(num, NULL);
  return 0;
}

/* The frame body as one JSON object; the fields the client reads are taken, the rest skipped. */
static const char *parse_frame(const char *p, size_t n, frame_t *f) {
  cur_t c = {p, p + n};
  frame_clear(f);
  int have_t = 0;
  ws(&c);
  if (c.p >= c.end || *c.p != '{') {
    if (jskip(&c, 0) == 0) return "a frame is not an object with a type";
    return "a frame is not valid JSON";
  }
  c.p++;
  ws(&c);
  if (c.p < c.end && *c.p == '}') c.p++;
  else
    for (;;) {
      buf_t key = {0};
      ws(&c);
      int bad = jstring(&c, &key);
      ws(&c);
      if (bad || c.p >= c.end || *c.p++ != ':') return free(key.p), "a frame is not valid JSON";
      ws(&c);
      buf_t *into = NULL;
      const char *k = key.p;
      int is_str = c.p < c.end && *c.p == '"';
      if (!strcmp(k, "t")) into = is_str ? &f->t : NULL, have_t = is_str;
      else if (!strcmp(k, "d") && is_str) into = &f->d;
      else if (!strcmp(k, "code") && is_str) into = &f->code_s;
      else if (!strcmp(k, "message") && is_str) into = &f->message;
      else if (!strcmp(k, "next") && is_str) into = &f->next;
      int r;
      if (into) {
        into->len = 0;
        r = jstring(&c, into);
      } else if (!strcmp(k, "code") || !strcmp(k, "exit")) {
        double v = 0;
        r = jnumber(&c, &v);
        if (r == 0 && !strcmp(k, "code")) f->has_code_n = 1, f->code_n = v;
        if (r == 0 && !strcmp(k, "exit")) f->has_exit = 1, f->exit = v;
        if (r == 1) r = 0;
      } else r = jskip(&c, 0);
      free(key.p);
      if (r) return "a frame is not valid JSON";
      ws(&c);
      if (c.p < c.end && *c.p == ',') {
        c.p++;
        continue;
      }
      if (c.p < c.end && *c.p == '}') {
        c.p++;
        break;
      }
      return "a frame is not valid JSON";
    }
  ws(&c);
  if (c.p != c.end) return "a frame is not valid JSON";
  return have_t ? NULL : "a frame is not an object with a type";
}

/* ---- base64 (what Buffer.from(d, 'base64') accepts from the daemon) ---- */

static void b64_decode(const char *s, size_t n, buf_t *out) {
  unsigned acc = 0;
  int bits = 0;
  out->len = 0;
  buf_reserve(out, n / 4 * 3 + 3);
  for (size_t i = 0; i < n; i++) {
    char ch = s[i];
    int v = ch >= 'A' && ch <= 'Z' ? ch - 'A' : ch >= 'a' && ch <= 'z' ? ch - 'a' + 26 : ch >= '0' && ch <= '9' ? ch - '0' + 52 : (ch == '+' || ch == '-') ? 62 : (ch == '/' || ch == '_') ? 63 : -1;
    if (ch == '=') break;
    if (v < 0) continue;
    acc = acc << 6 | (unsigned)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->p[out->len++] = (char)(acc >> bits & 0xff);
    }
  }
}

static void b64_encode(const unsigned char *s, size_t n, buf_t *out) {
  static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  buf_reserve(out, (n + 2) / 3 * 4);
  char *o = out->p + out->len;
  size_t i = 0;
  for (; i + 2 < n; i += 3) {
    unsigned v = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8 | s[i + 2];
    *o++ = a[v >> 18], *o++ = a[v >> 12 & 63], *o++ = a[v >> 6 & 63], *o++ = a[v & 63];
  }
  if (i < n) {
    unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0);
    *o++ = a[v >> 18], *o++ = a[v >> 12 & 63];
    *o++ = i + 1 < n ? a[v >> 6 & 63] : '=';
    *o++ = '=';
  }
  out->len = (size_t)(o - out->p);
}

/* ---- frames to the daemon ---- */

static void send_frame(int sock, buf_t *body) {
  if (body->len > MAX_FRAME) unavailable("a request frame is over the size limit"); /* argv over 1 MiB */
  unsigned char head[4] = {(unsigned char)(body->len >> 24), (unsigned char)(body->len >> 16), (unsigned char)(body->len >> 8), (unsigned char)body->len};
  if (write_all(sock, (const char *)head, 4) || write_all(sock, body->p, body->len)) {
    char m[160];
    snprintf(m, sizeof m, "cannot reach the outloop daemon at %s (%s)", socket_path, errno_code(errno));
    unavailable(m);
  }
}

/* ---- handing over to the JavaScript CLI ---- */

/* The package this program was built in: <root>/native/client/build/Release/outloop. */
static _Noreturn void hand_over(char **argv) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = 0;
    for (int up = 0; up < 5 && n > 0; up++) {
      char *slash = strrchr(exe, '/');
      if (!slash) break;
      *slash = 0;
    }
  }
  char js[PATH_MAX + 32];
  snprintf(js, sizeof js, "%s/bin/outloop.js", n > 0 ? exe : ".");
  int argc = 0;
  while (argv[argc]) argc++;
  char **nargv = calloc((size_t)argc + 2, sizeof *nargv);
  if (!nargv) oom();
  nargv[0] = "node";
  nargv[1] = js;
  for (int i = 1; i < argc; i++) nargv[i + 1] = argv[i];
  execvp("node", nargv);
  fprintf(stderr, "outloop: cannot start node for %s (%s) [internal]\nnext: Put Node.js 20.19 or newer on PATH, or run %s with it.\n", js, strerror(errno), js);
  exit(EX_SOFTWARE);
}

static int in_list(const char *s, const char *const *list, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(s, list[i])) return 1;
  return 0;
}

static const char *first_command(int argc, char **argv) {
  for (int i = 1; i < argc; i++)
    if (argv[i][0] != '-') return argv[i];
  return NULL;
}

/* What the JavaScript entry (bin/outloop.js) does itself rather than send: the same tests, in its order. */
static int handed_over(int argc, char **argv, int stdin_tty) {
  if (argc >= 2 && !strcmp(argv[1], "system")) return 1;
  if (argc == 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) return 1;
  if (argc >= 2 && !strcmp(argv[1], "session")) return 1;
  int set = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[1], "init") && (!strcmp(argv[i], "--agent") || !strncmp(argv[i], "--agent=", 8))) return 1;
    if (!strcmp(argv[i], "set")) set = 1;
  }
  const char *cmd = first_command(argc, argv);
  return cmd && !strcmp(cmd, "secrets") && set && stdin_tty;
}

int main(int argc, char **argv) {
  const char *env_sock = getenv("OUTLOOP_SOCKET");
  struct stat st;
  if (env_sock && *env_sock) socket_path = env_sock;
  else if (stat(MARKER, &st) == 0 || stat(DEFAULT_SOCKET, &st) == 0) socket_path = DEFAULT_SOCKET;
  int stdin_tty = isatty(0);
  /* No system install: personal mode, which is the JavaScript CLI's. */
  if (!socket_path || handed_over(argc, argv, stdin_tty)) hand_over(argv);

  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  char what[PATH_MAX + 96];
  if (strlen(socket_path) >= sizeof addr.sun_path) {
    snprintf(what, sizeof what, "cannot reach the outloop daemon at %s (ENAMETOOLONG)", socket_path);
    unavailable(what);
  }
  strcpy(addr.sun_path, socket_path);
  if (sock < 0 || connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0) {
    snprintf(what, sizeof what, "cannot reach the outloop daemon at %s (%s)", socket_path, errno_code(errno));
    unavailable(what);
  }

  buf_t hello = {0};
  char cwd[PATH_MAX];
  if (!getcwd(cwd, sizeof cwd)) {
    fprintf(stderr, "outloop: cannot read the working directory (%s) [usage]\n", strerror(errno));
    return EX_USAGE;
  }
  buf_str(&hello, "{\"t\":\"hello\",\"v\":1,\"argv\":[");
  for (int i = 1; i < argc; i++) {
    if (i > 1) buf_add(&hello, ",", 1);
    json_str(&hello, argv[i]);
  }
  buf_str(&hello, "],\"cwd\":");
  json_str(&hello, cwd);
  buf_str(&hello, ",\"env\":{");
  int first = 1;
  for (size_t i = 0; i < sizeof PASSED_ENV / sizeof *PASSED_ENV; i++) {
    const char *v = getenv(PASSED_ENV[i]);
    if (!v) continue;
    if (!first) buf_add(&hello, ",", 1);
    first = 0;
    json_str(&hello, PASSED_ENV[i]);
    buf_add(&hello, ":", 1);
    json_str(&hello, v);
  }
  buf_str(&hello, stdin_tty ? "},\"stdinTty\":true}" : "},\"stdinTty\":false}");
  send_frame(sock, &hello);

  const char *cmd = first_command(argc, argv);
  int relay_stdin = cmd && in_list(cmd, READS_STDIN, sizeof READS_STDIN / sizeof *READS_STDIN);
  static unsigned char piece[STDIN_PIECE];
  buf_t in = {0}, out = {0}, bytes = {0};
  frame_t f = {0};
  for (;;) {
    struct pollfd q[2] = {{.fd = sock, .events = POLLIN}, {.fd = relay_stdin ? 0 : -1, .events = POLLIN}};
    if (poll(q, 2, -1) < 0) {
      if (errno == EINTR) continue;
      unavailable("cannot wait for the outloop daemon");
    }
    if (q[1].revents) {
      ssize_t r = read(0, piece, sizeof piece);
      if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      out.len = 0;
      if (r > 0) {
        buf_str(&out, "{\"t\":\"stdin\",\"d\":\"");
        b64_encode(piece, (size_t)r, &out);
        buf_str(&out, "\"}");
      } else {
        buf_str(&out, "{\"t\":\"stdin-end\"}");
        relay_stdin = 0;
      }
      send_frame(sock, &out);
    }
    if (!q[0].revents) continue;
    buf_reserve(&in, 64 * 1024);
    ssize_t r = recv(sock, in.p + in.len, in.cap - in.len, 0);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (r <= 0) unavailable("the outloop daemon went away before the request finished (restarted or stopped); what happened is in its audit log");
    in.len += (size_t)r;
    size_t at = 0;
    while (in.len - at >= 4) {
      const unsigned char *h = (const unsigned char *)in.p + at;
      uint32_t len = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
      if (len > MAX_FRAME) {
        char m[96];
        snprintf(m, sizeof m, "frame of %u bytes is over the %u-byte limit", len, MAX_FRAME);
        bad_frame(m);
      }
      if (in.len - at - 4 < len) {
        buf_reserve(&in, len + 4);
        break;
      }
      const char *why = parse_frame(in.p + at + 4, len, &f);
      if (why) bad_frame(why);
      at += 4 + len;
      const char *t = f.t.p;
      if (!strcmp(t, "out") || !strcmp(t, "err")) {
        b64_decode(f.d.len ? f.d.p : "", f.d.len ? f.d.len - 1 : 0, &bytes);
        (void)write_all(t[0] == 'o' ? 1 : 2, bytes.p, bytes.len);
      } else if (!strcmp(t, "exit")) {
        return f.has_code_n ? (int)f.code_n & 0xff : 0;
      } else if (!strcmp(t, "error")) {
        buf_t m = {0};
        buf_str(&m, "outloop: ");
        buf_str(&m, f.message.len ? f.message.p : "undefined");
        buf_str(&m, " [");
        buf_str(&m, f.code_s.len ? f.code_s.p : "undefined");
        buf_str(&m, "]\nnext: ");
        buf_str(&m, f.next.len ? f.next.p : "undefined");
        buf_str(&m, "\n");
        (void)write_all(2, m.p, m.len);
        return f.has_exit ? (int)f.exit & 0xff : 0;
      }
      /* "session" and anything newer: nothing for a client outside `outloop session` to do. */
    }
    memmove(in.p, in.p + at, in.len - at);
    in.len -= at;
  }
}
