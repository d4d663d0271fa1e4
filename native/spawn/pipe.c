// Reading the child's output pipes on node's own event loop (libuv), without node:net.
//
// node reads a pipe through net.Socket: loading node:net and the Readable machinery under it, and the
// first run of their read paths, cost an exec ~2 ms before and after its child starts, for two pipes
// whose bytes go straight into the runner's sinks. This reads each pipe with a uv_pipe_t on the same
// loop and hands every chunk to one JavaScript callback, as node's own stream_wrap does.
//
// read(fd, onRead) -> handle     onRead(buffer) per chunk; onRead(null, 0) at the end of the pipe;
//                                onRead(null, errno) on a read error (negative, as node's errno are);
//                                then nothing more. The handle owns fd from here on.
// readStop(handle), readStart(handle)   backpressure: stop and restart reading
// close(handle)                  stop, and close fd; onRead is not called again
#define _GNU_SOURCE
#include "pipe.h"

#ifdef __linux__
#include <stdlib.h>
#include <string.h>
#include <uv.h>

struct reader {
  uv_pipe_t pipe;
  napi_env env;
  napi_ref on_read;
  napi_async_context ctx;
  int reading;
  int closed; // close asked for, or the pipe ended: no more callbacks
};

static void on_closed(uv_handle_t* h) {
  struct reader* r = h->data;
  napi_delete_reference(r->env, r->on_read);
  napi_async_destroy(r->env, r->ctx);
  free(r);
}

static void free_unopened(uv_handle_t* h) {
  free(h->data);
}

static void finish(struct reader* r) {
  if (r->closed) return;
  r->closed = 1;
  uv_read_stop((uv_stream_t*)&r->pipe);
  uv_close((uv_handle_t*)&r->pipe, on_closed);
}

static void alloc_cb(uv_handle_t* h, size_t suggested, uv_buf_t* buf) {
  (void)h;
  buf->base = malloc(suggested);
  buf->len = buf->base ? suggested : 0;
}

// One call into JavaScript, as node's MakeCallback makes it: the callback's ticks and microtasks run
// when it returns, and what it throws is an uncaught exception of the process.
static void deliver(struct reader* r, napi_value* argv, size_t argc) {
  napi_env env = r->env;
  napi_value fn, recv, result;
  if (napi_get_reference_value(env, r->on_read, &fn) != napi_ok || fn == NULL) return;
  napi_get_global(env, &recv); // MakeCallback wants an object as `this`
  if (napi_make_callback(env, r->ctx, recv, fn, argc, argv, &result) == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
  }
}

static void read_cb(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  struct reader* r = s->data;
  if (nread == 0 || r->closed) {
    free(buf->base);
    return;
  }
  napi_handle_scope scope;
  napi_open_handle_scope(r->env, &scope);
  if (nread > 0) {
    napi_value argv[1];
    void* data;
    // One copy of at most 64 KiB; the read buffer is free again at once. It held the child's output
    // before redaction, which may be a secret: wiped first, as spawn.c wipes its copies of the env.
    if (napi_create_buffer_copy(r->env, (size_t)nread, buf->base, &data, &argv[0]) == napi_ok) deliver(r, argv, 1);
    explicit_bzero(buf->base, (size_t)nread);
    free(buf->base);
  } else {
    free(buf->base);
    napi_value argv[2];
    napi_get_null(r->env, &argv[0]);
    napi_create_int32(r->env, nread == UV_EOF ? 0 : (int32_t)nread, &argv[1]);
    finish(r); // before the callback: whatever it does, this pipe is done
    deliver(r, argv, 2);
  }
  napi_close_handle_scope(r->env, scope);
}

static struct reader* unwrap(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void* p = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_external(env, argv[0], &p) != napi_ok) {
    napi_throw_type_error(env, NULL, "a pipe handle");
    return NULL;
  }
  return p;
}

static napi_value js_read(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd = -1;
  napi_valuetype t;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 ||
      napi_typeof(env, argv[1], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, NULL, "read(fd, onRead)");
    return NULL;
  }
  uv_loop_t* loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    napi_throw_error(env, NULL, "no event loop");
    return NULL;
  }
  struct reader* r = calloc(1, sizeof *r);
  if (r == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  r->env = env;
  int err = uv_pipe_init(loop, &r->pipe, 0);
  if (err != 0) {
    free(r);
    napi_throw_error(env, uv_err_name(err), uv_strerror(err));
    return NULL;
  }
  r->pipe.data = r;
  err = uv_pipe_open(&r->pipe, fd);
  if (err != 0) {
    // The handle is on the loop's list now: it goes through uv_close, never a bare free.
    uv_close((uv_handle_t*)&r->pipe, free_unopened);
    napi_throw_error(env, uv_err_name(err), uv_strerror(err));
    return NULL;
  }
  napi_value name, handle;
  napi_create_string_utf8(env, "outloop-pipe", NAPI_AUTO_LENGTH, &name);
  napi_create_reference(env, argv[1], 1, &r->on_read);
  napi_async_init(env, NULL, name, &r->ctx);
  napi_create_external(env, r, NULL, NULL, &handle);
  return handle;
}

static napi_value js_read_start(napi_env env, napi_callback_info info) {
  struct reader* r = unwrap(env, info);
  if (r && !r->closed && !r->reading) {
    r->reading = 1;
    uv_read_start((uv_stream_t*)&r->pipe, alloc_cb, read_cb);
  }
  return NULL;
}

static napi_value js_read_stop(napi_env env, napi_callback_info info) {
  struct reader* r = unwrap(env, info);
  if (r && !r->closed && r->reading) {
    r->reading = 0;
    uv_read_stop((uv_stream_t*)&r->pipe);
  }
  return NULL;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  struct reader* r = unwrap(env, info);
  if (r) finish(r);
  return NULL;
}

void register_pipe(napi_env env, napi_value exports) {
  const struct { const char* name; napi_callback fn; } fns[] = {
      {"read", js_read}, {"readStart", js_read_start}, {"readStop", js_read_stop}, {"close", js_close}};
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f);
    napi_set_named_property(env, exports, fns[i].name, f);
  }
}

#endif // __linux__
