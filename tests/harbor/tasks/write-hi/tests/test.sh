#!/bin/bash
# Reward 1 when the agent wrote the file the instruction asks for.
if [ "$(cat /app/out.txt 2>/dev/null)" = hi ]; then echo 1; else echo 0; fi > /logs/verifier/reward.txt
