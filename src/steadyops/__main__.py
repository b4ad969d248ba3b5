from steadyops.cli import main

main()
