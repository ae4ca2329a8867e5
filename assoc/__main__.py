from assoc.cli import main

# main() returns 130 after a Ctrl-C. A KeyboardInterrupt that escapes it anyway, for
# example one raised again while a brian2 object is cleaned up, must not turn the exit
# status into death by SIGINT, so it is caught here too.
try:
    code = main()
except KeyboardInterrupt:
    code = 130
raise SystemExit(code)
