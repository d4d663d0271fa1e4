{
  'targets': [
    {
      'target_name': 'dgram',
      'sources': ['dgram.c'],
      'cflags': ['-Wall', '-Wextra', '-O2'],
      'defines': ['NAPI_VERSION=8'],
    },
  ],
}
