// SO_PEERCRED for Node: the uid, gid and pid the kernel recorded for the other end of a Unix socket
// when it connected. Node has no API for it, and a daemon must not take a caller's identity from the
// caller's own words. Also the two calls an `outloop session` root needs to keep the session's processes
// in its tree (a child subreaper), which Node has no API for either. And dup2, for a daemon worker that
// ends its output before its process has finished exiting, and setrlimit, which Node has no API for.
// And getpwnam_r, for OS user names as the system resolves them (NSS), which Node cannot do for a user
// other than the current one.
#define _GNU_SOURCE
#include <node_api.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

static napi_value throw_errno(napi_env env, const char* code, const char* what) {
  char msg[128];
  snprintf(msg, sizeof msg, "%s failed: %s", what, strerror(errno));
  napi_throw_error(env, code, msg);
  return NULL;
}

#if !defined(SO_PEERCRED) || !defined(PR_SET_CHILD_SUBREAPER)
// What a platform without the call gets (each call's #else): an ENOSYS error naming it.
static napi_value unavailable(napi_env env, const char* what) {
  char msg[128];
  snprintf(msg, sizeof msg, "%s is not available on this platform", what);
  napi_throw_error(env, "ENOSYS", msg);
  return NULL;
}
#endif

static napi_value peercred(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, NULL, "peercred(fd): fd must be a non-negative integer");
    return NULL;
  }
#ifdef SO_PEERCRED
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred) return throw_errno(env, "EPEERCRED", "getsockopt(SO_PEERCRED)");
  napi_value out, v;
  napi_create_object(env, &out);
  napi_create_int32(env, cred.pid, &v);
  napi_set_named_property(env, out, "pid", v);
  napi_create_uint32(env, cred.uid, &v);
  napi_set_named_property(env, out, "uid", v);
  napi_create_uint32(env, cred.gid, &v);
  napi_set_named_property(env, out, "gid", v);
  return out;
#else
  return unavailable(env, "SO_PEERCRED");
#endif
}

// subreaper(): orphans of this process's descendants (a double fork, a setsid daemon) are reparented to
// it instead of init, so they stay in its tree. Not inherited by children.
static napi_value subreaper(napi_env env, napi_callback_info info) {
  (void)info;
#ifdef PR_SET_CHILD_SUBREAPER
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) return throw_errno(env, "ESUBREAPER", "prctl(PR_SET_CHILD_SUBREAPER)");
  return NULL;
#else
  return unavailable(env, "PR_SET_CHILD_SUBREAPER");
#endif
}

// reapAdopted(keep): reap exited children other than `keep`; returns how many, or -1 when this process
// has no children at all. A subreaper must reap what it adopted (libuv waits only for the pids it spawned),
// but must never reap libuv's own child: libuv waits for it by pid, and if someone else took its exit
// status the child's 'exit' event would never come. So each exited child is first looked at with WNOWAIT
// and reaped by pid only if it is not `keep`. The kernel offers exited children in list order and
// `keep` is the oldest, so once it is the one offered the rest wait for the next call (libuv reaps it).
static napi_value reap_adopted(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t keep = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &keep) != napi_ok) {
    napi_throw_type_error(env, NULL, "reapAdopted(keep): keep must be a pid (or 0)");
    return NULL;
  }
  int32_t reaped = 0;
  for (;;) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0) {
      if (errno == EINTR) continue;
      if (errno == ECHILD && reaped == 0) reaped = -1;
      break;
    }
    if (si.si_pid == 0 || si.si_pid == keep) break;
    siginfo_t done;
    if (waitid(P_PID, (id_t)si.si_pid, &done, WEXITED | WNOHANG) != 0 && errno != ECHILD) break;
    reaped++;
  }
  napi_value out;
  napi_create_int32(env, reaped, &out);
  return out;
}

// endOutput(): /dev/null over stdout and stderr, so the pipes they were end (the reader sees EOF once it
// has read everything written before) while the process still runs. dup2 swaps each descriptor in one
// step: no open elsewhere in the process can be handed fd 1 or 2 in between, as it could after a close.
static napi_value end_output(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, "EENDOUTPUT", "open(/dev/null)");
  if (dup2(fd, 1) < 0 || dup2(fd, 2) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return throw_errno(env, "EENDOUTPUT", "dup2(/dev/null)");
  }
  close(fd);
  return NULL;
}

// noCoreDumps(): RLIMIT_CORE 0, soft and hard, for this process and what it starts from now on.
static napi_value no_core_dumps(napi_env env, napi_callback_info info) {
  (void)info;
  struct rlimit none = {0, 0};
  if (setrlimit(RLIMIT_CORE, &none) != 0) return throw_errno(env, "ERLIMIT", "setrlimit(RLIMIT_CORE)");
  return NULL;
}

// userUid(name): the uid of the OS user `name` from the system's user database (getpwnam_r, so through
// NSS: a user from LDAP or sssd counts as one in /etc/passwd does), or null when there is none. A lookup
// that fails (the directory cannot be reached) throws: the caller must not guess a binding.
static napi_value user_uid(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char name[256];
  size_t len = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok || len == 0 || len >= sizeof name - 1 ||
      strlen(name) != len) {
    napi_throw_type_error(env, NULL, "userUid(name): name must be a non-empty string under 255 bytes, without NUL");
    return NULL;
  }
  long size = sysconf(_SC_GETPW_R_SIZE_MAX);
  if (size <= 0) size = 16384;
  for (;;) {
    char* buf = malloc((size_t)size);
    if (buf == NULL) {
      napi_throw_error(env, "ENOMEM", "getpwnam_r: out of memory");
      return NULL;
    }
    struct passwd pw;
    struct passwd* found = NULL;
    int e = getpwnam_r(name, &pw, buf, (size_t)size, &found);
    if (e == ERANGE && size < (1L << 20)) {
      free(buf);
      size *= 2;
      continue;
    }
    napi_value out;
    // Not found is 0 with no entry; some NSS modules say ENOENT or ESRCH for it (POSIX allows both).
    if (e == 0 || e == ENOENT || e == ESRCH) {
      if (e == 0 && found != NULL) napi_create_uint32(env, pw.pw_uid, &out);
      else napi_get_null(env, &out);
      free(buf);
      return out;
    }
    free(buf);
    errno = e;
    return throw_errno(env, "EGETPW", "getpwnam_r");
  }
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "peercred", NAPI_AUTO_LENGTH, peercred, NULL, &fn);
  napi_set_named_property(env, exports, "peercred", fn);
  napi_create_function(env, "subreaper", NAPI_AUTO_LENGTH, subreaper, NULL, &fn);
  napi_set_named_property(env, exports, "subreaper", fn);
  napi_create_function(env, "reapAdopted", NAPI_AUTO_LENGTH, reap_adopted, NULL, &fn);
  napi_set_named_property(env, exports, "reapAdopted", fn);
  napi_create_function(env, "endOutput", NAPI_AUTO_LENGTH, end_output, NULL, &fn);
  napi_set_named_property(env, exports, "endOutput", fn);
  napi_create_function(env, "noCoreDumps", NAPI_AUTO_LENGTH, no_core_dumps, NULL, &fn);
  napi_set_named_property(env, exports, "noCoreDumps", fn);
  napi_create_function(env, "userUid", NAPI_AUTO_LENGTH, user_uid, NULL, &fn);
  napi_set_named_property(env, exports, "userUid", fn);
  return exports;
}
