#!/bin/sh
# depmod, as the Debian package modatlas-depmod installs it: modatlas's
# drop-in depmod, writing what this release's kmod writes (Debian 12: kmod
# 30). kmod's own depmod is /sbin/depmod.kmod (docs/packaging.md).
exec /usr/sbin/modatlas-depmod --compat=kmod30 "$@"
