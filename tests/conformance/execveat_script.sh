#!/bin/sh
# Run by the execveat conformance program through a descriptor.
echo "script ran with $# arguments"
