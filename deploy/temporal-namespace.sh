#!/bin/sh
# Creates the namespace and registers our custom search attributes (src/workflows/search-attributes.ts).
set -eu
ns="${TEMPORAL_NAMESPACE:-default}"
until temporal operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; do sleep 2; done
temporal operator namespace describe --address "$TEMPORAL_ADDRESS" -n "$ns" >/dev/null 2>&1 \
  || temporal operator namespace create --address "$TEMPORAL_ADDRESS" -n "$ns" --retention 30d
for name in $OMNI_SEARCH_ATTRIBUTES; do
  temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" -n "$ns" --name "$name" --type Keyword --yes \
    || echo "search attribute $name exists"
done
