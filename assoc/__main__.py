from assoc.cli import main

# main() returns 130 after a Ctrl-C. A KeyboardInterrupt that escapes it anyway is
# caught here too, so that the exit status stays 130 instead of death by SIGINT.
try:
    code = main()
except KeyboardInterrupt:
    code = 130
raise SystemExit(code)
