from codefix.cli import main

main()
