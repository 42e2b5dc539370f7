#!/bin/sh
# Runs once in the postgres container's first start: applies deploy/bootstrap.sql.
set -eu
psql -v ON_ERROR_STOP=1 -U postgres \
  -v owner_password="'${XINQIAO_OWNER_PASSWORD}'" -v app_password="'${XINQIAO_APP_PASSWORD}'" \
  -f /bootstrap/bootstrap.sql
