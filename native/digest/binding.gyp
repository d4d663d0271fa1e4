{
  'targets': [
    {
      'target_name': 'digest',
      'sources': ['digest.c'],
      'cflags': ['-Wall', '-Wextra', '-O2'],
      'defines': ['NAPI_VERSION=8', 'OPENSSL_API_COMPAT=0x10100000L'],
    },
  ],
}
