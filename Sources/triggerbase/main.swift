print("triggerbase")
