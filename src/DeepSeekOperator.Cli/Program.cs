using DeepSeekOperator.Cli;

return await Dsop.RunAsync(args, Console.Out, Console.Error, CancellationToken.None);
