from ci_helper.launcher import main

if __name__ == "__main__":
    # The same name in usage lines and errors as the console script (the actions run `python -I -m ci_helper`).
    main(prog_name="ci-helper")
