from kg_builder.cli import main

main(prog_name="kg-build")
