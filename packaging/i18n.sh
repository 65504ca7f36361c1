#!/usr/bin/env bash
# Compile the viewer's translations: resources/i18n/*.ts (Qt Linguist sources, edited by hand or
# in Linguist) -> *.qm, which the app loads. Needs Qt's lrelease (Debian: qttools5-dev-tools).
#   bash packaging/i18n.sh
set -euo pipefail
cd "$(dirname "$0")/.."
LRELEASE=${LRELEASE:-$(command -v lrelease || echo /usr/lib/qt5/bin/lrelease)}
for ts in resources/i18n/*.ts; do
    "$LRELEASE" "$ts" -qm "${ts%.ts}.qm"
done
