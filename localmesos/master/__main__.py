from localmesos.master.main import main

main()
