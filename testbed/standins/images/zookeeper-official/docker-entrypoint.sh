#!/bin/bash
# STAND-IN entrypoint with the official zookeeper image's rules: zoo.cfg is generated from ZOO_* only when
# /conf/zoo.cfg is missing (ZOO_SERVERS and ZOO_CFG_EXTRA are split on spaces, one line each); myid is
# written from ZOO_MY_ID only when missing. Then Debian's real ZooKeeper runs in the foreground.
set -e
echo "zookeeper STAND-IN image (test double of the official image; the server is Debian's real ZooKeeper)" >&2
if [[ ! -f "$ZOO_CONF_DIR/zoo.cfg" ]]; then
  CONFIG="$ZOO_CONF_DIR/zoo.cfg"
  {
    echo "dataDir=$ZOO_DATA_DIR"
    echo "dataLogDir=$ZOO_DATA_LOG_DIR"
    echo "tickTime=$ZOO_TICK_TIME"
    echo "initLimit=$ZOO_INIT_LIMIT"
    echo "syncLimit=$ZOO_SYNC_LIMIT"
    echo "autopurge.snapRetainCount=$ZOO_AUTOPURGE_SNAPRETAINCOUNT"
    echo "autopurge.purgeInterval=$ZOO_AUTOPURGE_PURGEINTERVAL"
    echo "maxClientCnxns=$ZOO_MAX_CLIENT_CNXNS"
    echo "standaloneEnabled=$ZOO_STANDALONE_ENABLED"
    echo "admin.enableServer=$ZOO_ADMINSERVER_ENABLED"
  } >>"$CONFIG"
  if [[ -z $ZOO_SERVERS ]]; then
    ZOO_SERVERS="server.1=localhost:2888:3888;2181"
  fi
  for server in $ZOO_SERVERS; do
    echo "$server" >>"$CONFIG"
  done
  if [[ -n $ZOO_4LW_COMMANDS_WHITELIST ]]; then
    echo "4lw.commands.whitelist=$ZOO_4LW_COMMANDS_WHITELIST" >>"$CONFIG"
  fi
  for cfg_extra_entry in $ZOO_CFG_EXTRA; do
    echo "$cfg_extra_entry" >>"$CONFIG"
  done
fi
if [[ ! -f "$ZOO_DATA_DIR/myid" ]]; then
  echo "${ZOO_MY_ID:-1}" >"$ZOO_DATA_DIR/myid"
fi
if [[ "$1" == zkServer.sh ]]; then
  # Debian's build logs through log4j: send it to the console (docker logs), as the official image does.
  export SERVER_JVMFLAGS="-Dzookeeper.root.logger=INFO,CONSOLE ${SERVER_JVMFLAGS}"
  export ZOOCFGDIR="$ZOO_CONF_DIR"
  shift
  exec /usr/share/zookeeper/bin/zkServer.sh "$@" "$ZOO_CONF_DIR/zoo.cfg"
fi
exec "$@"
