// SO_PEERCRED for Node: the uid, gid and pid the kernel recorded for the other end of a Unix socket
// when it connected. Node has no API for it, and a daemon must not take a caller's identity from the
// caller's own words.
#define _GNU_SOURCE
#include <node_api.h>
#include <sys/socket.h>
#include <errno.h>
#include <string.h>

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
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred) {
    char msg[128];
    snprintf(msg, sizeof msg, "getsockopt(SO_PEERCRED) failed: %s", strerror(errno));
    napi_throw_error(env, "EPEERCRED", msg);
    return NULL;
  }
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
  napi_throw_error(env, "ENOSYS", "SO_PEERCRED is not available on this platform");
  return NULL;
#endif
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "peercred", NAPI_AUTO_LENGTH, peercred, NULL, &fn);
  napi_set_named_property(env, exports, "peercred", fn);
  return exports;
}
