#!/bin/bash
# Reward 1 when the download made while the image was built is in the image.
if python3 -c 'import json; assert json.load(open("/app/fetched.json"))["path"] == "/build-fetch"'; then
  echo 1
else
  echo 0
fi > /logs/verifier/reward.txt
