#!/bin/sh
# roosync-maint hook: installed by `roosync-maint hooks install`, removed by `roosync-maint hooks uninstall`.
# Starts one maintenance tick in the background (it runs only the tasks that are due) and returns at once,
# so a pull storm never becomes a maintenance storm and git never waits for maintenance.
if [ -z "$ROOSYNC_MAINT_IN_TICK" ]; then
  mkdir -p @LOGDIR@ 2>/dev/null
  ROOSYNC_SHARED_PATH=@SHARED@ ROOSYNC_MACHINE_ID=@MACHINE@ @NODE@ @BIN@ run --log-level warn </dev/null >/dev/null 2>>@LOG@ &
fi
# an earlier hook of the same name, kept and chained at install
if [ -x "$0.roosync-maint-chained" ]; then
  exec "$0.roosync-maint-chained" "$@"
fi
exit 0
