from offgrid.cli import main

main()
