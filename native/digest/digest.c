// SHA-256, HMAC-SHA256 and random bytes from the OpenSSL that node itself links (node exports its
// symbols to addons; the headers come with node's). node:crypto costs 2-3 ms to load, and an exec that
// needs only these three (the audit chain, the parse cache, ids) would pay it before its child starts.
// One-shot functions: the callers hash a config file or an audit line, never a stream.
#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

static int buffer_arg(napi_env env, napi_value v, void** data, size_t* len) {
  bool is_buffer = false;
  return napi_is_buffer(env, v, &is_buffer) == napi_ok && is_buffer && napi_get_buffer_info(env, v, data, len) == napi_ok;
}

static napi_value digest_out(napi_env env, const unsigned char* md, size_t len) {
  napi_value out;
  void* dst;
  if (napi_create_buffer_copy(env, len, md, &dst, &out) != napi_ok) return NULL;
  return out;
}

// sha256(data: Buffer) -> Buffer(32)
static napi_value sha256(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void* data;
  size_t len;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || !buffer_arg(env, argv[0], &data, &len)) {
    napi_throw_type_error(env, NULL, "sha256(data): a Buffer");
    return NULL;
  }
  unsigned char md[SHA256_DIGEST_LENGTH];
  if (!EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL)) {
    napi_throw_error(env, NULL, "sha256 failed");
    return NULL;
  }
  return digest_out(env, md, sizeof md);
}

// hmacSha256(key: Buffer, data: Buffer) -> Buffer(32)
static napi_value hmac_sha256(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  void *key, *data;
  size_t key_len, len;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || !buffer_arg(env, argv[0], &key, &key_len) ||
      !buffer_arg(env, argv[1], &data, &len) || key_len > 0x7fffffff) {
    napi_throw_type_error(env, NULL, "hmacSha256(key, data): two Buffers");
    return NULL;
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  // HMAC() with an empty key: OpenSSL wants a non-NULL pointer even for zero bytes.
  static const unsigned char none = 0;
  if (HMAC(EVP_sha256(), key_len ? key : &none, (int)key_len, data, len, md, &md_len) == NULL) {
    napi_throw_error(env, NULL, "hmac-sha256 failed");
    return NULL;
  }
  napi_value out = digest_out(env, md, md_len);
  OPENSSL_cleanse(md, sizeof md);
  return out;
}

// randomBytes(n) -> Buffer(n), from OpenSSL's CSPRNG as node:crypto's randomBytes.
static napi_value random_bytes(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  uint32_t n = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_uint32(env, argv[0], &n) != napi_ok || n > 65536) {
    napi_throw_range_error(env, NULL, "randomBytes(n): 0 to 65536 bytes");
    return NULL;
  }
  napi_value out;
  void* dst;
  if (napi_create_buffer(env, n, &dst, &out) != napi_ok) return NULL;
  if (n && RAND_bytes(dst, (int)n) != 1) {
    napi_throw_error(env, NULL, "the random number generator failed");
    return NULL;
  }
  return out;
}

// equal(a: Buffer, b: Buffer) -> boolean, in time that depends only on the length (CRYPTO_memcmp), as
// node:crypto's timingSafeEqual; buffers of different lengths are unequal.
static napi_value equal(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  void *a, *b;
  size_t a_len, b_len;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || !buffer_arg(env, argv[0], &a, &a_len) || !buffer_arg(env, argv[1], &b, &b_len)) {
    napi_throw_type_error(env, NULL, "equal(a, b): two Buffers");
    return NULL;
  }
  napi_value out;
  napi_get_boolean(env, a_len == b_len && CRYPTO_memcmp(a, b, a_len) == 0, &out);
  return out;
}

NAPI_MODULE_INIT() {
  const struct { const char* name; napi_callback fn; } fns[] = {{"sha256", sha256}, {"hmacSha256", hmac_sha256}, {"randomBytes", random_bytes}, {"equal", equal}};
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f);
    napi_set_named_property(env, exports, fns[i].name, f);
  }
  return exports;
}
