#!/bin/sh
# The curl image's entrypoint, as curl's published image behaves: when the first argument is
# an option, or is not a program found on PATH, the arguments are curl's; otherwise they are
# run as given (so `kubectl run ... -- curl -s URL` works, as it does with that image).
set -e
if [ "${1#-}" != "$1" ] || [ -z "$(command -v "$1")" ]; then
  set -- curl "$@"
fi
exec "$@"
