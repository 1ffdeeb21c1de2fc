from conda2docker.cli import entry

entry()
