{
  'targets': [
    {
      # Not an addon: the system-mode client as a program of its own (see outloop.c). Built by node-gyp
      # like the addons, so one toolchain and one install script build all three.
      'target_name': 'outloop',
      'type': 'executable',
      'sources': ['outloop.c'],
      'cflags': ['-Wall', '-Wextra', '-O2', '-std=gnu11'],
    },
  ],
}
