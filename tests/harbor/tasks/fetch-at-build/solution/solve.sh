#!/bin/bash
# Nothing to do: the image's build made what the verifier checks.
true
