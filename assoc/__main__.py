from assoc.cli import main

raise SystemExit(main())
