// One datagram to a Unix socket (journald's native socket, or syslog's /dev/log). Node's dgram module
// speaks UDP only, and an audit copy sent this way must cost one syscall, not a child process.
#define _GNU_SOURCE
#include <node_api.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

// send(path, buffer) -> 0, or the errno of the failure (never throws for a socket error: the caller
// decides what a missing or full log socket means). MSG_DONTWAIT: a stalled reader drops the copy
// (EAGAIN) instead of stalling the request.
static napi_value send_dgram(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
  size_t path_len = 0;
  void *data = NULL;
  size_t data_len = 0;
  bool is_buffer = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_string_utf8(env, argv[0], path, sizeof path, &path_len) != napi_ok ||
      napi_is_buffer(env, argv[1], &is_buffer) != napi_ok || !is_buffer ||
      napi_get_buffer_info(env, argv[1], &data, &data_len) != napi_ok) {
    napi_throw_type_error(env, NULL, "send(path, buffer): a socket path and a Buffer");
    return NULL;
  }
  int err = 0;
  if (path_len == 0 || path_len >= sizeof path - 1) {
    err = ENAMETOOLONG;
  } else {
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, path, path_len);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      err = errno;
    } else {
      ssize_t n = sendto(fd, data, data_len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&addr, sizeof addr);
      if (n < 0) err = errno;
      close(fd);
    }
  }
  napi_value out;
  napi_create_int32(env, err, &out);
  return out;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "send", NAPI_AUTO_LENGTH, send_dgram, NULL, &fn);
  napi_set_named_property(env, exports, "send", fn);
  return exports;
}
