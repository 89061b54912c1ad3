from skeleton.cli import main

raise SystemExit(main())
