// implemented by the IR commit
