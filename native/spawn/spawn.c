// The runner's spawn, for Linux: vfork and execve, with what the child needs set between the two.
//
// node's child_process forks the whole node process (about 2 ms here, most of an exec's own spawn) and
// costs ~1.2 ms to load, and the runner then needed a shell in front of bwrap only to ignore the signals
// bwrap must survive and to turn core dumps off. vfork borrows the parent's memory until the execve, so
// nothing is copied; the child sets its signal dispositions, core limit, death signal, session, stdio and
// folder itself, closes every other descriptor, then execs the command. This is what glibc's posix_spawn does, plus the two things
// posix_spawn cannot express: a signal set to SIG_IGN (not only SIG_DFL) and RLIMIT_CORE.
//
// spawn(file, argv, env, cwd, stdio, ignore, flags, onExit) -> [pid, stdinFd, stdoutFd, stderrFd]
//   stdio: three ints, each -1 (a new pipe; its other end is returned), -2 (/dev/null) or an fd of ours
//          the child gets as is; file must be a path (the caller searches PATH).
//   ignore: signal numbers the child starts with ignored; every other signal starts at its default.
//   flags: 1 RLIMIT_CORE 0 (soft and hard), 2 SIGKILL when this thread dies, 4 a new session (setsid).
//   onExit(code, signal): once, from a thread that waits for the child, as numbers (one of them null).
// A failure before or at the execve throws an Error whose `errno` is the negative errno, as node's are.
#define _GNU_SOURCE
#include <node_api.h>

#ifdef __linux__
#include "pipe.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define F_NO_CORE 1
#define F_PDEATHSIG 2
#define F_SETSID 4
#define OUTPUT_PIPE_BYTES (256 * 1024)

struct child_args {
  const char* file;
  char** argv;
  char** sh_argv; // /bin/sh, file, argv[1..]: made here, as nothing may be allocated in the child
  char** envp;
  const char* cwd;
  int fds[3];
  uint64_t ignore; // bit n-1 for signal n, for the classic signals 1..64
  int flags;
  pid_t parent;
  volatile int err; // the child's errno when it could not exec; the parent reads it after vfork returns
};

// In the vfork child: only system calls, no allocation and no locks (the parent's other threads go on
// running in the same memory), and never a return from here (the frame below belongs to the parent).
__attribute__((noreturn)) static void child_exec(struct child_args* a) {
  if ((a->flags & F_SETSID) && setsid() < 0) goto fail;
  // The child's handlers are its own copy (vfork shares memory, not the signal table): what node had
  // caught goes back to its default, and `ignore` is ignored. SIGKILL and SIGSTOP cannot be changed, and
  // glibc refuses its own two real-time signals; neither is an error here.
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = (sig <= 64 && (a->ignore >> (sig - 1)) & 1) ? SIG_IGN : SIG_DFL;
    sigaction(sig, &sa, NULL);
  }
  if (a->flags & F_NO_CORE) {
    struct rlimit none = {0, 0};
    if (setrlimit(RLIMIT_CORE, &none) != 0) goto fail;
  }
  if (a->flags & F_PDEATHSIG) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) goto fail;
    // Dead already (before the death signal was set): then the child must not run at all.
    if (getppid() != a->parent) _exit(128 + SIGKILL);
  }
  for (int i = 0; i < 3; i++) {
    // Every fd of ours that we pass is above 2 (node keeps 0-2 open), or is i itself (inherited): dup2
    // makes a copy without O_CLOEXEC, and an inherited one only loses the flag.
    if (a->fds[i] == i) {
      if (fcntl(i, F_SETFD, 0) < 0) goto fail;
    } else if (dup2(a->fds[i], i) < 0) {
      goto fail;
    }
  }
#ifdef SYS_close_range
  // Nothing of ours beyond stdio: a descriptor someone left without O_CLOEXEC (one inherited from our own
  // parent, say) would otherwise reach the command. Before Linux 5.9 there is no such call, and the
  // child gets what node's spawn would give it.
  syscall(SYS_close_range, 3, ~0U, 0);
#endif
  if (a->cwd[0] && chdir(a->cwd) != 0) goto fail;
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  execve(a->file, a->argv, a->envp);
  // A script without a #! line: run it with /bin/sh, as execvp and every shell do.
  if (errno == ENOEXEC) execve("/bin/sh", a->sh_argv, a->envp);
fail:
  a->err = errno;
  _exit(127);
}

struct waiter {
  pid_t pid;
  int status;
  int ok;
  napi_threadsafe_function tsfn;
};

static void* wait_for_child(void* p) {
  struct waiter* w = p;
  napi_threadsafe_function tsfn = w->tsfn; // w belongs to the main thread once the call is queued
  int st = 0;
  pid_t r;
  do r = waitpid(w->pid, &st, 0);
  while (r < 0 && errno == EINTR);
  w->status = st;
  w->ok = r == w->pid;
  napi_call_threadsafe_function(tsfn, w, napi_tsfn_blocking);
  napi_release_threadsafe_function(tsfn, napi_tsfn_release);
  return NULL;
}

static void call_on_exit(napi_env env, napi_value cb, void* ctx, void* data) {
  (void)ctx;
  struct waiter* w = data;
  if (env != NULL && cb != NULL) {
    napi_value args[2], undef;
    napi_get_null(env, &args[0]);
    napi_get_null(env, &args[1]);
    if (w->ok && WIFEXITED(w->status)) napi_create_int32(env, WEXITSTATUS(w->status), &args[0]);
    else if (w->ok && WIFSIGNALED(w->status)) napi_create_int32(env, WTERMSIG(w->status), &args[1]);
    napi_get_undefined(env, &undef);
    napi_call_function(env, undef, cb, 2, args, NULL);
  }
  free(w);
}

static char* utf8(napi_env env, napi_value v) {
  size_t n;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok) return NULL;
  char* s = malloc(n + 1);
  if (s == NULL) return NULL;
  napi_get_value_string_utf8(env, v, s, n + 1, &n);
  if (strlen(s) != n) { // a NUL inside: execve would cut the string there
    explicit_bzero(s, n);
    free(s);
    return NULL;
  }
  return s;
}

// The environment may hold a secret (a recipe's env): its copies are wiped before they are freed.
static void free_list(char** list, int wipe) {
  if (list == NULL) return;
  for (char** p = list; *p; p++) {
    if (wipe) explicit_bzero(*p, strlen(*p));
    free(*p);
  }
  free(list);
}

static char** string_list(napi_env env, napi_value arr) {
  uint32_t n;
  if (napi_get_array_length(env, arr, &n) != napi_ok) return NULL;
  char** out = calloc(n + 1, sizeof *out);
  if (out == NULL) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    if (napi_get_element(env, arr, i, &v) != napi_ok || (out[i] = utf8(env, v)) == NULL) {
      free_list(out, 1);
      return NULL;
    }
  }
  return out;
}

static napi_value throw_errno(napi_env env, int err, const char* syscall) {
  napi_value msg, code, e, num;
  char text[160];
  snprintf(text, sizeof text, "%s: %s", syscall, strerror(err));
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
  napi_create_string_utf8(env, "ESPAWN", NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, msg, &e);
  napi_create_int32(env, -err, &num);
  napi_set_named_property(env, e, "errno", num);
  napi_throw(env, e);
  return NULL;
}

static napi_value js_spawn(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  napi_value result = NULL;
  struct child_args a;
  memset(&a, 0, sizeof a);
  a.fds[0] = a.fds[1] = a.fds[2] = -1;
  int ours[3] = {-1, -1, -1};   // our ends of the pipes
  int theirs[3] = {-1, -1, -1}; // the ends (or /dev/null) the child gets; closed here after the spawn
  char* file = NULL;
  char* cwd = NULL;
  int32_t flags = 0;
  napi_valuetype cbt;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 8 ||
      napi_typeof(env, argv[7], &cbt) != napi_ok || cbt != napi_function ||
      napi_get_value_int32(env, argv[6], &flags) != napi_ok) {
    napi_throw_type_error(env, NULL, "spawn(file, argv, env, cwd, stdio, ignore, flags, onExit)");
    return NULL;
  }
  file = utf8(env, argv[0]);
  cwd = utf8(env, argv[3]);
  a.argv = string_list(env, argv[1]);
  a.envp = string_list(env, argv[2]);
  if (file == NULL || cwd == NULL || a.argv == NULL || a.envp == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "spawn: file, argv, env and cwd must be strings without NUL bytes");
    goto out;
  }
  a.file = file;
  a.cwd = cwd;
  size_t argc_n = 0;
  while (a.argv[argc_n]) argc_n++;
  if ((a.sh_argv = calloc(argc_n + 2, sizeof *a.sh_argv)) == NULL) {
    throw_errno(env, ENOMEM, "spawn");
    goto out;
  }
  a.sh_argv[0] = "/bin/sh";
  a.sh_argv[1] = file;
  for (size_t i = 1; i < argc_n; i++) a.sh_argv[i + 1] = a.argv[i];
  a.flags = flags;
  uint32_t n = 0;
  napi_get_array_length(env, argv[5], &n);
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    int32_t sig = 0;
    napi_get_element(env, argv[5], i, &v);
    if (napi_get_value_int32(env, v, &sig) == napi_ok && sig >= 1 && sig <= 64) a.ignore |= (uint64_t)1 << (sig - 1);
  }
  for (uint32_t i = 0; i < 3; i++) {
    napi_value v;
    int32_t kind = -2;
    napi_get_element(env, argv[4], i, &v);
    napi_get_value_int32(env, v, &kind);
    if (kind == -1) {
      int p[2];
      if (pipe2(p, O_CLOEXEC) != 0) {
        throw_errno(env, errno, "pipe2");
        goto out;
      }
      // node's children write into socket pairs, which hold ~200 KiB; a pipe holds 64 KiB. A child that
      // writes a burst and exits must not start waiting on a slow reader sooner than it did under node, so
      // its output pipes get 256 KiB. Best effort: past the user's pipe-user-pages-soft the kernel refuses.
      if (i > 0) (void)fcntl(p[0], F_SETPIPE_SZ, OUTPUT_PIPE_BYTES);
      // stdin: the child reads p[0]; stdout, stderr: it writes p[1].
      theirs[i] = i == 0 ? p[0] : p[1];
      ours[i] = i == 0 ? p[1] : p[0];
    } else if (kind == -2) {
      if ((theirs[i] = open("/dev/null", (i == 0 ? O_RDONLY : O_WRONLY) | O_CLOEXEC)) < 0) {
        throw_errno(env, errno, "open /dev/null");
        goto out;
      }
    } else {
      a.fds[i] = kind;
      continue;
    }
    a.fds[i] = theirs[i];
  }
  struct waiter* w = calloc(1, sizeof *w);
  if (w == NULL) {
    throw_errno(env, ENOMEM, "spawn");
    goto out;
  }
  napi_value name;
  napi_create_string_utf8(env, "outloop-spawn-wait", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[7], NULL, name, 0, 1, NULL, NULL, NULL, call_on_exit, &w->tsfn) != napi_ok) {
    free(w);
    throw_errno(env, EAGAIN, "napi_create_threadsafe_function");
    goto out;
  }
  a.parent = getpid();
  // No signal handler of ours may run in the child while it shares our memory: all are blocked across
  // the vfork (the child unblocks them once its dispositions are reset), and unblocked again here.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = vfork();
  if (pid == 0) child_exec(&a);
  int vfork_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (pid < 0 || a.err != 0) {
    int err = pid < 0 ? vfork_errno : a.err;
    if (pid > 0) while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    napi_release_threadsafe_function(w->tsfn, napi_tsfn_abort);
    free(w);
    throw_errno(env, err, pid < 0 ? "vfork" : "execve");
    goto out;
  }
  w->pid = pid;
  pthread_t t;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  int terr = pthread_create(&t, &attr, wait_for_child, w);
  pthread_attr_destroy(&attr);
  if (terr != 0) {
    // The child runs and must not be left unwaited-for: kill it and reap it before failing.
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    napi_release_threadsafe_function(w->tsfn, napi_tsfn_abort);
    free(w);
    throw_errno(env, terr, "pthread_create");
    goto out;
  }
  napi_create_array_with_length(env, 4, &result);
  napi_value v;
  napi_create_int32(env, pid, &v);
  napi_set_element(env, result, 0, v);
  for (uint32_t i = 0; i < 3; i++) {
    napi_create_int32(env, ours[i], &v);
    napi_set_element(env, result, i + 1, v);
    ours[i] = -1; // handed over
  }
out:
  for (int i = 0; i < 3; i++) {
    if (theirs[i] >= 0) close(theirs[i]);
    if (ours[i] >= 0) close(ours[i]);
  }
  free(file);
  free(cwd);
  free(a.sh_argv); // its strings are argv's
  free_list(a.argv, 0);
  free_list(a.envp, 1);
  return result;
}

// setNonBlocking(fd): O_NONBLOCK on a descriptor of ours, as libuv sets it on a pipe that node's
// process.stdout opens; exec's own output writer (src/cli/fd-writer.ts) then gets EAGAIN from a full pipe
// instead of blocking the event loop (and with it the recipe's timeout). Returns false when it cannot.
static napi_value js_set_nonblock(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  int32_t fd = -1;
  int ok = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == 1 && napi_get_value_int32(env, argv[0], &fd) == napi_ok && fd >= 0) {
    int fl = fcntl(fd, F_GETFL);
    ok = fl >= 0 && ((fl & O_NONBLOCK) || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0);
  }
  napi_get_boolean(env, ok, &out);
  return out;
}

#endif // __linux__

// Elsewhere the module exports nothing and the runner uses node's child_process.
NAPI_MODULE_INIT() {
#ifdef __linux__
  napi_value fn;
  napi_create_function(env, "spawn", NAPI_AUTO_LENGTH, js_spawn, NULL, &fn);
  napi_set_named_property(env, exports, "spawn", fn);
  napi_create_function(env, "setNonBlocking", NAPI_AUTO_LENGTH, js_set_nonblock, NULL, &fn);
  napi_set_named_property(env, exports, "setNonBlocking", fn);
  register_pipe(env, exports);
#else
  (void)env;
#endif
  return exports;
}
