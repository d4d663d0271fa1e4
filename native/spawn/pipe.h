// The child's output pipes read on node's event loop (pipe.c).
#include <node_api.h>

void register_pipe(napi_env env, napi_value exports);
