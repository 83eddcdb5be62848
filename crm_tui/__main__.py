from crm_tui.launch import main

main()
