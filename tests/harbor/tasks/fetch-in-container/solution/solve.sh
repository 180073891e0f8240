#!/bin/bash
# The agent's HTTPS call from inside the container (SERVER_URL comes from harbor's --ae).
curl -fsS --max-time 20 "$SERVER_URL/agent-fetch" -o /app/out.json
