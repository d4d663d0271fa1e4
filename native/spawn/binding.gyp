{
  'targets': [
    {
      'target_name': 'spawn',
      'sources': ['spawn.c', 'pipe.c'],
      'cflags': ['-Wall', '-Wextra', '-O2'],
      'defines': ['NAPI_VERSION=8'],
    },
  ],
}
