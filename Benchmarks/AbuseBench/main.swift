print("AbuseBench")
