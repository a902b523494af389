"""Services hold the domain rules and own their transactions; web handlers only call them."""
