#!/bin/bash
# Reward 1 when the agent's download is the server's answer and the verifier's own HTTPS request
# (SERVER_URL comes from harbor's --ve) succeeds; each failure says which.
reward=1
python3 -c 'import json; assert json.load(open("/app/out.json"))["path"] == "/agent-fetch"' \
  || { echo "the agent's download /app/out.json is missing or wrong"; reward=0; }
python3 -c 'import json, sys, urllib.request; assert json.load(urllib.request.urlopen(sys.argv[1] + "/verifier-fetch", timeout=20))["ok"]' "$SERVER_URL" \
  || { echo "the verifier's own request failed"; reward=0; }
echo $reward > /logs/verifier/reward.txt
